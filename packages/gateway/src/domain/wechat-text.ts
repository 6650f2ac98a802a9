// What WeChat said, as kept in the audit trail (wechat_payloads, a payout's raw_result).
import { parseXml, rawReply } from '@wxpay/sdk';

/**
 * The exact text of a verified WeChat reply. Rows written before the SDK kept that text hold JSON of
 * the verified fields instead, so readers of stored replies accept both (see readWechatText).
 */
export function wechatText(reply: object): string {
  return rawReply(reply) ?? JSON.stringify(reply);
}

/**
 * The fields of a stored reply: WeChat's XML, or the JSON older rows hold. Undefined for what is
 * neither, such as a transport failure kept as its message.
 */
export function readWechatText(body: string): Record<string, string> | undefined {
  try {
    return body.startsWith('{') ? (JSON.parse(body) as Record<string, string>) : parseXml(body);
  } catch {
    return undefined;
  }
}
