// WeChat → merchant notifies: the signed payment notify, the encrypted refund notify, and the reply.
import { createDecipheriv, createHash } from 'node:crypto';
import { ProtocolError, SignatureError, XmlError } from './errors.js';
import { verifySign } from './sign.js';
import type { PaymentNotify, RefundNotify } from './types.js';
import { buildXml, parseXml } from './xml.js';

export interface MerchantIdentity {
  appid: string;
  mchId: string;
  key: string;
}

function parseBody(rawBody: string | Buffer, kind: string): Record<string, string> {
  try {
    return parseXml(rawBody);
  } catch (error) {
    if (error instanceof XmlError) {
      throw new XmlError(`${kind} notify is not WeChat XML: ${error.message}`, { rawBody: String(rawBody) });
    }
    throw error;
  }
}

function requireSuccess(fields: Record<string, string>, kind: string, rawBody: string) {
  if (fields.return_code === 'SUCCESS') return;
  throw new ProtocolError(
    `${kind} notify has return_code ${fields.return_code ?? '(none)'}: ${fields.return_msg ?? ''}`,
    fields.return_msg ?? '',
    { rawBody, reply: fields },
  );
}

function checkMerchant(
  fields: Record<string, string>,
  merchant: MerchantIdentity,
  kind: string,
  rawBody: string,
) {
  if (fields.mch_id !== merchant.mchId) {
    throw new SignatureError(
      `${kind} notify is for mch_id ${fields.mch_id ?? '(none)'}, not the configured ${merchant.mchId}`,
      { rawBody, reply: fields },
    );
  }
  if (fields.appid !== undefined && fields.appid !== merchant.appid) {
    throw new SignatureError(
      `${kind} notify is for appid ${fields.appid}, not the configured ${merchant.appid}`,
      {
        rawBody,
        reply: fields,
      },
    );
  }
}

/**
 * Verifies a payment notify on the exact bytes received and returns its fields. Throws
 * SignatureError for a forged or foreign notify. Compare total_fee with your own order before
 * marking it paid.
 */
export function parsePaymentNotify(rawBody: string | Buffer, merchant: MerchantIdentity): PaymentNotify {
  const text = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const fields = parseBody(rawBody, 'payment');
  requireSuccess(fields, 'payment', text);
  if (!verifySign(fields, merchant.key)) {
    throw new SignatureError(
      fields.sign
        ? 'payment notify signature does not verify with the configured APIv2 key: it is forged, altered, ' +
            'or signed with another key (the APIv2 key is not the AppSecret nor the APIv3 key)'
        : 'payment notify carries no sign',
      { rawBody: text, reply: fields },
    );
  }
  checkMerchant(fields, merchant, 'payment', text);
  return fields as PaymentNotify;
}

/** The AES-256-ECB key for req_info: the lowercase hex MD5 of the APIv2 key, as 32 ASCII bytes. */
function reqInfoKey(apiKey: string): Buffer {
  return Buffer.from(createHash('md5').update(apiKey, 'utf8').digest('hex'), 'latin1');
}

/** Decrypts a refund notify's `req_info` into its fields (root `<root>`). */
export function decryptReqInfo(reqInfo: string, apiKey: string): Record<string, string> {
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-ecb', reqInfoKey(apiKey), null);
    plain = Buffer.concat([decipher.update(Buffer.from(reqInfo, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  } catch (error) {
    throw new SignatureError(
      'refund notify req_info cannot be decrypted with the configured key. It is encrypted with the MD5 of the ' +
        'APIv2 key: check that `key` is the 32-character APIv2 key, not the APIv3 key or the AppSecret.',
      { cause: error },
    );
  }
  try {
    return parseXml(plain, { root: 'root' });
  } catch (error) {
    throw new SignatureError(`refund notify req_info decrypted to something that is not <root> XML`, {
      cause: error,
    });
  }
}

/** Encrypts fields as WeChat does for req_info; used by simulators and tests. */
export { encryptReqInfo } from './notify-encrypt.js';

/**
 * Reads a refund notify: checks the outer ids and decrypts `req_info`. Refund notifies carry no sign;
 * a successful decryption with the merchant's key is what authenticates them.
 */
export function parseRefundNotify(rawBody: string | Buffer, merchant: MerchantIdentity): RefundNotify {
  const text = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const fields = parseBody(rawBody, 'refund');
  requireSuccess(fields, 'refund', text);
  checkMerchant(fields, merchant, 'refund', text);
  if (!fields.req_info)
    throw new SignatureError('refund notify carries no req_info', { rawBody: text, reply: fields });
  const info = decryptReqInfo(fields.req_info, merchant.key);
  return {
    ...info,
    appid: fields.appid ?? merchant.appid,
    mch_id: fields.mch_id ?? merchant.mchId,
  } as RefundNotify;
}

/** The XML answer to a notify: SUCCESS stops WeChat's retries, FAIL asks for another attempt. */
export function notifyReply(ok: boolean, msg?: string): string {
  return buildXml({ return_code: ok ? 'SUCCESS' : 'FAIL', return_msg: msg ?? (ok ? 'OK' : 'FAIL') });
}
