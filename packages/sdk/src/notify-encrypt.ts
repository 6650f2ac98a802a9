// The encrypting side of req_info (AES-256-ECB, PKCS#7, key = hex MD5 of the APIv2 key).
import { createCipheriv, createHash } from 'node:crypto';
import { buildXml } from './xml.js';

export function encryptReqInfo(fields: Readonly<Record<string, unknown>>, apiKey: string): string {
  const key = Buffer.from(createHash('md5').update(apiKey, 'utf8').digest('hex'), 'latin1');
  const cipher = createCipheriv('aes-256-ecb', key, null);
  return Buffer.concat([cipher.update(buildXml(fields, 'root'), 'utf8'), cipher.final()]).toString('base64');
}
