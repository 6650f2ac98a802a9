// Failures to start that the user can fix (a port in use, a host not this machine's, a database out of reach),
// turned into one-line UsageErrors.
import { UsageError } from './options.js';

/** The fields Node's system errors and pg's server errors carry. */
interface ErrorFields {
  code?: unknown;
  port?: unknown;
  severity?: unknown;
  errors?: unknown;
}

/**
 * A port that is taken or needs privileges, or a --host that is not this machine's, as one line naming the flag
 * to change (`flags`: flag → the port it asked for); any other error as it was.
 */
export function portInUse(error: unknown, command: string, flags: Record<string, number>): unknown {
  if (!(error instanceof Error)) return error;
  const { code, port } = error as ErrorFields & { address?: unknown };
  const flag = Object.keys(flags).find((name) => flags[name] === port) ?? Object.keys(flags)[0];
  if (code === 'EADDRINUSE')
    return new UsageError(`port ${port} is in use (another ${command}?); pass ${flag}`, { cause: error });
  if (code === 'EACCES')
    return new UsageError(`port ${port} needs privileges this user does not have; pass ${flag} above 1023`, {
      cause: error,
    });
  if (code === 'EADDRNOTAVAIL') {
    const { address } = error as { address?: unknown };
    return new UsageError(`${address} is not an address of this machine; pass --host`, { cause: error });
  }
  return error;
}

/** Codes of a connection that never got to the database server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * The first connection to the database failing (nothing listening, an unknown host, a login or database the
 * server refuses, a URL pg cannot parse), as one line; any other error as it was. The line quotes pg's message,
 * which names the host, user or database but never the password, and not the URL.
 */
export function unreachableDatabase(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { code, severity, errors } = error as ErrorFields;
  const network = typeof code === 'string' && NETWORK_CODES.has(code);
  // pg's FATAL errors while logging in: class 28 (authentication), 3D000 (no such database).
  const refused = severity === 'FATAL' && typeof code === 'string' && /^(28|3D)/.test(code);
  if (!network && !refused && code !== 'ERR_INVALID_URL') return error;
  // Node joins the attempts of one connect (IPv4, IPv6) in an AggregateError whose own message is empty.
  const first = Array.isArray(errors) && errors[0] instanceof Error ? errors[0].message : undefined;
  const detail = error.message || first || String(code);
  return new UsageError(
    `cannot connect to the database (${detail}); check DATABASE_URL${network ? ' and that the server is running' : ''}`,
    { cause: error },
  );
}
