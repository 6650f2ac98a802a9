// @wxpay/sdk: a typed client for the WeChat Pay (微信支付) merchant API v2.

export { encryptForBank, readBankPublicKey } from './bank-encryption.js';
export * from './bill.js';
export type { ClientCert } from './certificate.js';
export { loadClientCert } from './certificate.js';
export {
  DEFAULT_BASE_URL,
  DEFAULT_RISK_BASE_URL,
  mwebUrlWithRedirect,
  WechatPay,
  type WechatPayOptions,
} from './client.js';
export { ENDPOINTS, type EndpointName, type EndpointSpec, UNKNOWN_OUTCOME_CODES } from './endpoints.js';
export * from './errors.js';
export { mchBillno, partnerTradeNo } from './merchant-numbers.js';
export { fenToYuan, yuanToFen } from './money.js';
export { nonce, randomDigits } from './nonce.js';
export {
  decryptReqInfo,
  encryptReqInfo,
  type MerchantIdentity,
  notifyReply,
  parsePaymentNotify,
  parseRefundNotify,
} from './notify.js';
export { REDPACK_SCENE_ID_THRESHOLD } from './payout-rules.js';
export type * from './payout-types.js';
export { rawReply } from './raw-reply.js';
export {
  type Fields,
  type FieldValue,
  type SignType,
  sign,
  signingString,
  signTypeOf,
  verifySign,
} from './sign.js';
export * from './types.js';
export {
  computeWebhookSignature,
  constructWebhookEvent,
  signWebhookPayload,
  WEBHOOK_SIGNATURE_HEADER,
  WebhookSignatureError,
  type WebhookSignatureErrorCode,
} from './webhook.js';
export {
  type Callback as WechatPayApiCallback,
  WechatPayApi,
  WechatPayApiError,
  type WechatPayApiOptions,
} from './wechat-pay-api.js';
export { buildXml, type ParseXmlOptions, parseXml, uncarriableCharacter } from './xml.js';
