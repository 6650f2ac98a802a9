// gethbinfo's reply is the one v2 reply that is not flat: it nests
// <hblist><hbinfo><openid/><amount/><rcv_time/></hbinfo>…</hblist>. Rather than loosen the strict flat
// parser for every reply, this cuts that one section out and parses each <hbinfo> with the same
// strict parser (root `hbinfo`), so DOCTYPE, entities, deeper nesting and oversize stay refused.
import { XmlError } from './errors.js';
import type { RedpackReceipt } from './payout-types.js';
import { parseXml } from './xml.js';

/** A red packet has at most 20 receivers; this bound only stops a hostile reply. */
const MAX_RECEIPTS = 1000;
const CDATA_OPEN = '<![CDATA[';

/** The index of `token` at or after `from`, skipping CDATA sections (where markup is just text). */
function indexOutsideCdata(text: string, token: string, from: number): number {
  let i = from;
  for (;;) {
    const at = text.indexOf(token, i);
    if (at < 0) return -1;
    const cdata = text.indexOf(CDATA_OPEN, i);
    if (cdata < 0 || cdata >= at) return at;
    const end = text.indexOf(']]>', cdata + CDATA_OPEN.length);
    if (end < 0) return -1;
    i = end + 3;
  }
}

export interface SplitHbList {
  /** The reply without its hblist section: flat XML for parseXml. */
  flat: string;
  hblist: RedpackReceipt[];
}

/** Takes the nested hblist out of a gethbinfo reply. A reply without hblist comes back unchanged. */
export function splitHbList(text: string): SplitHbList {
  const empty = indexOutsideCdata(text, '<hblist/>', 0);
  if (empty >= 0) return { flat: text.slice(0, empty) + text.slice(empty + '<hblist/>'.length), hblist: [] };
  const open = indexOutsideCdata(text, '<hblist>', 0);
  if (open < 0) return { flat: text, hblist: [] };
  const close = indexOutsideCdata(text, '</hblist>', open);
  if (close < 0) throw new XmlError('<hblist> is not closed');
  const after = close + '</hblist>'.length;
  if (indexOutsideCdata(text, '<hblist', after) >= 0) throw new XmlError('<hblist> appears twice');
  // hblist must be a child of <xml>, between two fields; not spliced into another field's value.
  if (!/(<\/[A-Za-z_][A-Za-z0-9_.-]*>|<xml>|\/>)\s*$/.test(text.slice(Math.max(0, open - 200), open))) {
    throw new XmlError('<hblist> is not a direct child of <xml>');
  }

  const inner = text.slice(open + '<hblist>'.length, close);
  const hblist: RedpackReceipt[] = [];
  let i = 0;
  for (;;) {
    while (i < inner.length && /\s/.test(inner[i] as string)) i++;
    if (i >= inner.length) break;
    if (!inner.startsWith('<hbinfo>', i)) throw new XmlError('<hblist> may only contain <hbinfo> elements');
    const end = indexOutsideCdata(inner, '</hbinfo>', i);
    if (end < 0) throw new XmlError('<hbinfo> is not closed');
    const next = end + '</hbinfo>'.length;
    const info = parseXml(inner.slice(i, next), { root: 'hbinfo', maxFields: 20 });
    if (hblist.length >= MAX_RECEIPTS) throw new XmlError(`<hblist> has more than ${MAX_RECEIPTS} entries`);
    hblist.push({ openid: info.openid ?? '', amount: info.amount ?? '', rcv_time: info.rcv_time ?? '' });
    i = next;
  }
  return { flat: text.slice(0, open) + text.slice(after), hblist };
}
