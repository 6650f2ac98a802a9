// A strict codec for WeChat's flat XML: <xml><field>value</field>…</xml>, every value a string.
// It understands only that shape, so DOCTYPE, entities beyond the predefined five, nesting,
// attributes and oversized input are refused rather than interpreted.
import { RequestValidationError, XmlError } from './errors.js';

export interface ParseXmlOptions {
  /** The required root element. Default `xml`; refund notifies' decrypted req_info uses `root`. */
  root?: string;
  /** The largest input accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** The most fields accepted. Default 1000. */
  maxFields?: number;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_MAX_FIELDS = 1000;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// Characters XML 1.0 cannot carry at all, even in CDATA.
const INVALID_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// Field names already checked against NAME, so that building a request does not test them again.
const knownNames = new Set<string>();
// String.prototype.isWellFormed (Node 20) tells lone surrogates, which UTF-8 cannot carry.
const isWellFormed = (value: string): boolean =>
  (value as unknown as { isWellFormed(): boolean }).isWellFormed();
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeText(text: string, field: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&\s]{0,10});?/g, (match, ref: string) => {
    if (!match.endsWith(';')) throw new XmlError(`unterminated character reference in <${field}>`);
    const predefined = PREDEFINED[ref];
    if (predefined !== undefined) return predefined;
    const code = ref.startsWith('#x')
      ? Number.parseInt(ref.slice(2), 16)
      : ref.startsWith('#')
        ? Number.parseInt(ref.slice(1), 10)
        : Number.NaN;
    if (!Number.isInteger(code) || code < 0x9 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new XmlError(`entity &${ref}; in <${field}> is not allowed: only the five predefined entities`);
    }
    return String.fromCodePoint(code);
  });
}

/** Parses WeChat's flat XML into an object of strings, refusing anything outside that shape. */
export function parseXml(input: string | Buffer, options: ParseXmlOptions = {}): Record<string, string> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const byteLength = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (byteLength > maxBytes) {
    throw new XmlError(`XML body of ${byteLength} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const rootName = options.root ?? 'xml';
  const maxFields = options.maxFields ?? DEFAULT_MAX_FIELDS;

  let i = 0;
  const skipSpace = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff) i++;
      else break;
    }
  };

  skipSpace();
  if (text.startsWith('<?xml', i)) {
    const end = text.indexOf('?>', i);
    if (end < 0) throw new XmlError('unterminated XML declaration');
    i = end + 2;
    skipSpace();
  }
  if (text.startsWith('<!', i)) {
    const what = text.startsWith('<!DOCTYPE', i) ? 'DOCTYPE declarations are' : 'markup declarations are';
    throw new XmlError(`${what} not allowed in WeChat XML`);
  }
  const rootOpen = `<${rootName}>`;
  if (!text.startsWith(rootOpen, i)) {
    const found = /^<\s*([^\s>/]*)/.exec(text.slice(i, i + 64));
    throw new XmlError(
      found ? `root element must be <${rootName}>, got <${found[1]}>` : `expected <${rootName}> at the start`,
    );
  }
  i += rootOpen.length;

  const out: Record<string, string> = {};
  let count = 0;
  const rootClose = `</${rootName}>`;
  for (;;) {
    skipSpace();
    if (text.startsWith(rootClose, i)) {
      i += rootClose.length;
      break;
    }
    if (text.charCodeAt(i) !== 0x3c /* < */) {
      if (i >= text.length) throw new XmlError(`missing ${rootClose}`);
      throw new XmlError(`unexpected text directly inside <${rootName}> at offset ${i}`);
    }
    if (text.startsWith('<!', i)) {
      throw new XmlError('comments and declarations are not allowed in WeChat XML');
    }
    if (text.startsWith('<?', i)) throw new XmlError('processing instructions are not allowed in WeChat XML');
    const tagEnd = text.indexOf('>', i);
    if (tagEnd < 0) throw new XmlError('unterminated tag');
    let tag = text.slice(i + 1, tagEnd);
    const selfClosing = tag.endsWith('/');
    if (selfClosing) tag = tag.slice(0, -1).trimEnd();
    if (!NAME.test(tag)) {
      if (tag.startsWith('/')) throw new XmlError(`unexpected closing tag <${tag}> inside <${rootName}>`);
      if (/\s/.test(tag)) throw new XmlError(`attributes are not allowed: <${tag}>`);
      throw new XmlError(`invalid element name <${tag}>`);
    }
    if (tag === '__proto__') throw new XmlError('invalid element name <__proto__>');
    if (Object.hasOwn(out, tag)) throw new XmlError(`field <${tag}> appears twice`);
    if (++count > maxFields) throw new XmlError(`more than ${maxFields} fields`);
    i = tagEnd + 1;
    if (selfClosing) {
      out[tag] = '';
      continue;
    }
    let value = '';
    for (;;) {
      if (text.startsWith('<![CDATA[', i)) {
        const end = text.indexOf(']]>', i + 9);
        if (end < 0) throw new XmlError(`unterminated CDATA section in <${tag}>`);
        value += text.slice(i + 9, end);
        i = end + 3;
        continue;
      }
      const lt = text.indexOf('<', i);
      if (lt < 0) throw new XmlError(`unterminated element <${tag}>`);
      if (lt > i) {
        value += decodeText(text.slice(i, lt), tag);
        i = lt;
        continue;
      }
      if (text.startsWith('<![CDATA[', i)) continue;
      const close = `</${tag}>`;
      if (text.startsWith(close, i)) {
        i += close.length;
        break;
      }
      if (text.startsWith('</', i)) throw new XmlError(`mismatched closing tag inside <${tag}>`);
      if (text.startsWith('<!', i) || text.startsWith('<?', i)) {
        throw new XmlError(`comments and declarations are not allowed in WeChat XML (inside <${tag}>)`);
      }
      throw new XmlError(`nested element inside <${tag}>: WeChat XML is flat`);
    }
    if (INVALID_CHARS.test(value)) throw new XmlError(`<${tag}> contains a character XML cannot carry`);
    out[tag] = value;
  }
  skipSpace();
  if (i < text.length) throw new XmlError(`unexpected content after ${rootClose}`);
  return out;
}

/**
 * Where `value` holds a character XML 1.0 cannot carry (a C0 control other than tab, line feed and carriage
 * return, U+FFFE, U+FFFF or an unpaired surrogate), in words: "character 3 is U+0001 (a control character)",
 * counting code points from 1. Undefined when WeChat's XML can carry all of it.
 */
export function uncarriableCharacter(value: string): string | undefined {
  if (!INVALID_CHARS.test(value) && isWellFormed(value)) return undefined;
  let position = 0;
  // for…of walks code points; a lone surrogate comes out as a string of its own.
  for (const char of value) {
    position++;
    const code = char.codePointAt(0) ?? 0;
    const lone = char.length === 1 && code >= 0xd800 && code <= 0xdfff;
    if (!lone && !INVALID_CHARS.test(char)) continue;
    const kind = lone ? 'an unpaired surrogate' : code >= 0xfffe ? 'a noncharacter' : 'a control character';
    return `character ${position} is U+${code.toString(16).toUpperCase().padStart(4, '0')} (${kind})`;
  }
  return 'a character XML cannot carry';
}

/**
 * Builds WeChat's flat XML. Values go in CDATA (a `]]>` inside a value is split across two sections);
 * null and undefined fields are left out. A value with a character XML 1.0 cannot carry (a C0 control other
 * than tab, line feed and carriage return, U+FFFE, U+FFFF or an unpaired surrogate) is a RequestValidationError
 * naming the field.
 */
export function buildXml(fields: Readonly<Record<string, unknown>>, root = 'xml'): string {
  let out = `<${root}>`;
  for (const name of Object.keys(fields)) {
    const raw = fields[name];
    if (raw === undefined || raw === null) continue;
    if (!knownNames.has(name)) {
      if (!NAME.test(name) || name === '__proto__')
        throw new XmlError(`invalid field name ${JSON.stringify(name)}`);
      if (knownNames.size < 1000) knownNames.add(name);
    }
    if (typeof raw === 'object' || typeof raw === 'function' || typeof raw === 'symbol') {
      throw new XmlError(`field ${name} must be a string or number, got ${typeof raw}: WeChat XML is flat`);
    }
    const value = String(raw);
    if (INVALID_CHARS.test(value) || !isWellFormed(value)) {
      // A RequestValidationError, not an XmlError: nothing was sent, so the caller knows WeChat cannot have acted.
      throw new RequestValidationError(
        name,
        `${name}: ${uncarriableCharacter(value)}, which XML cannot carry; the request was not sent`,
      );
    }
    const cdata = value.includes(']]>') ? value.replaceAll(']]>', ']]]]><![CDATA[>') : value;
    out += `<${name}><![CDATA[${cdata}]]></${name}>`;
  }
  return `${out}</${root}>`;
}
