// Loads the merchant's client certificate (p12 or PEM) and turns OpenSSL's failures into advice.
import { createSecureContext } from 'node:tls';
import { CertificateError } from './errors.js';

/** The merchant's client certificate: the p12 file as a Buffer, or the PEM certificate and key. */
export type ClientCert =
  | { pfx: Buffer; passphrase?: string }
  | { cert: string | Buffer; key: string | Buffer };

/** TLS options for the certificate, as node:tls and undici take them. */
export type ClientCertTls =
  | { pfx: Buffer; passphrase: string }
  | { cert: string | Buffer; key: string | Buffer };

const LEGACY_P12_ADVICE =
  'This p12 uses legacy RC2-40 encryption, which OpenSSL 3 (Node 17 and later) refuses. ' +
  'Convert it to PEM: `openssl pkcs12 -legacy -in apiclient_cert.p12 -out apiclient_cert.pem -clcerts -nokeys` and ' +
  '`openssl pkcs12 -legacy -in apiclient_cert.p12 -out apiclient_key.pem -nocerts -nodes`, then pass ' +
  '{ cert, key }; or use the apiclient_cert.pem and apiclient_key.pem files from the merchant platform.';

/** Validates the certificate now, so that a bad one fails at construction and not on the first refund. */
export function loadClientCert(clientCert: ClientCert, mchId: string): ClientCertTls {
  if ('pfx' in clientCert) {
    const { pfx } = clientCert;
    if (!Buffer.isBuffer(pfx)) {
      throw new CertificateError(
        'clientCert.pfx must be a Buffer: read the p12 with fs.readFileSync(path) and no encoding ' +
          '(a p12 read as a utf8 string is corrupted).',
      );
    }
    const passphrase = clientCert.passphrase ?? mchId;
    try {
      createSecureContext({ pfx, passphrase });
    } catch (error) {
      throw describePkcs12Failure(error, clientCert.passphrase === undefined);
    }
    return { pfx, passphrase };
  }
  const { cert, key } = clientCert;
  for (const [name, value, label] of [
    ['cert', cert, 'CERTIFICATE'],
    ['key', key, 'PRIVATE KEY'],
  ] as const) {
    const text = Buffer.isBuffer(value) ? value.toString('latin1') : value;
    if (typeof text !== 'string' || !text.includes('-----BEGIN')) {
      throw new CertificateError(
        `clientCert.${name} must be PEM text (apiclient_${name}.pem, starting with "-----BEGIN ${label}"). ` +
          'For a p12 file pass { pfx } instead.',
      );
    }
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const hint = /key values mismatch/i.test(reason)
      ? 'the private key does not belong to this certificate'
      : 'OpenSSL could not load it';
    throw new CertificateError(`clientCert PEM cannot be used: ${hint} (${reason}).`, { cause: error });
  }
  return { cert, key };
}

function describePkcs12Failure(error: unknown, defaultPassphrase: boolean): CertificateError {
  const reason = error instanceof Error ? error.message : String(error);
  if (/unsupported pkcs12|unsupported.*algorithm|RC2/i.test(reason)) {
    return new CertificateError(`clientCert.pfx cannot be loaded (${reason}). ${LEGACY_P12_ADVICE}`, {
      cause: error,
    });
  }
  if (/mac verify failure|invalid password|bad decrypt/i.test(reason)) {
    const which = defaultPassphrase
      ? 'The passphrase defaulted to mchId; pass clientCert.passphrase if the file has another one.'
      : 'Check clientCert.passphrase (WeChat sets it to the mch_id).';
    return new CertificateError(`clientCert.pfx: wrong passphrase (${reason}). ${which}`, { cause: error });
  }
  return new CertificateError(`clientCert.pfx is not a readable PKCS#12 file (${reason}).`, { cause: error });
}
