// The exact text WeChat sent, kept beside the fields the client returns.

const RAW = new WeakMap<object, string>();

/** Remembers the text a reply's fields were read from. */
export function keepRawReply<T extends object>(reply: T, text: string): T {
  RAW.set(reply, text);
  return reply;
}

/**
 * The exact text of the WeChat reply these fields came from, as received and verified: for an
 * audit trail that stores what WeChat said rather than our reading of it. Undefined for an object
 * the client did not return (a copy made with spread, for example, has no raw text).
 */
export function rawReply(reply: object): string | undefined {
  return RAW.get(reply);
}
