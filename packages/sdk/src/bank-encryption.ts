// Encrypts a bank card number or holder name for pay_bank: RSA-OAEP with SHA-1 (WeChat's choice) under
// the PKCS#1 public key that getpublickey returns, base64 on the wire.
import { createPublicKey, constants as cryptoConstants, type KeyObject, publicEncrypt } from 'node:crypto';
import { CertificateError } from './errors.js';

/** Reads WeChat's pub_key (-----BEGIN RSA PUBLIC KEY-----, PKCS#1; SPKI PEM also works). */
export function readBankPublicKey(pem: string): KeyObject {
  try {
    const key = createPublicKey(
      pem.includes('BEGIN RSA PUBLIC KEY') ? { key: pem, format: 'pem', type: 'pkcs1' } : pem,
    );
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`not an RSA key (${key.asymmetricKeyType})`);
    return key;
  } catch (error) {
    throw new CertificateError(
      `the RSA public key from getpublickey cannot be read (${error instanceof Error ? error.message : error})`,
      { endpoint: '/risk/getpublickey', cause: error },
    );
  }
}

export function encryptForBank(key: KeyObject, clearText: string): string {
  return publicEncrypt(
    { key, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.from(clearText, 'utf8'),
  ).toString('base64');
}
