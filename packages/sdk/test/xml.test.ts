import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { buildXml, parseXml, XmlError } from '../src/index.ts';

// A test oracle: a well-known XML parser, configured to keep every value as text.
const oracle = new XMLParser({ parseTagValue: false, trimValues: false, processEntities: true });
const oracleTrimmed = new XMLParser({ parseTagValue: false, processEntities: true });

const NOTIFY = `<xml><appid><![CDATA[wx2421b1c4370ec43b]]></appid>
<attach><![CDATA[支付测试]]></attach>
<bank_type><![CDATA[CFT]]></bank_type>
<fee_type><![CDATA[CNY]]></fee_type>
<is_subscribe><![CDATA[Y]]></is_subscribe>
<mch_id><![CDATA[10000100]]></mch_id>
<nonce_str><![CDATA[5d2b6c2a8db53831f7eda20af46e531c]]></nonce_str>
<openid><![CDATA[oUpF8uMEb4qRXf22hE3X68TekukE]]></openid>
<out_trade_no><![CDATA[1409811653202311180000000001]]></out_trade_no>
<result_code><![CDATA[SUCCESS]]></result_code>
<return_code><![CDATA[SUCCESS]]></return_code>
<sign><![CDATA[B552ED6B279343CB493C5DD0D78AB241]]></sign>
<time_end><![CDATA[20140903131540]]></time_end>
<total_fee>1</total_fee>
<trade_type><![CDATA[JSAPI]]></trade_type>
<transaction_id><![CDATA[1004400740201409030005092168]]></transaction_id>
</xml>`;

describe('parseXml', () => {
  test('reads a payment notify with every value as a string, long numbers intact', () => {
    const fields = parseXml(NOTIFY);
    assert.equal(fields.out_trade_no, '1409811653202311180000000001');
    assert.equal(fields.total_fee, '1');
    assert.equal(fields.attach, '支付测试');
    assert.equal(Object.keys(fields).length, 16);
    assert.deepEqual(fields, oracleTrimmed.parse(NOTIFY).xml);
  });

  test('accepts a declaration, plain text with entities, empty and self-closing elements', () => {
    const fields = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<xml><a>x &amp; y &lt;z&gt; &#x4E2D;&#25991;</a><b></b><c/><d><![CDATA[1]]><![CDATA[2]]></d></xml>',
    );
    assert.deepEqual(fields, { a: 'x & y <z> 中文', b: '', c: '', d: '12' });
  });

  test('accepts a Buffer', () => {
    assert.deepEqual(parseXml(Buffer.from('<xml><a>红包</a></xml>')), { a: '红包' });
  });

  test('takes another root when told (refund notify req_info)', () => {
    assert.deepEqual(parseXml('<root><refund_status>SUCCESS</refund_status></root>', { root: 'root' }), {
      refund_status: 'SUCCESS',
    });
  });
});

describe('parseXml refuses hostile or foreign input', () => {
  const refuse = (input: string | Buffer, message: RegExp) =>
    assert.throws(
      () => parseXml(input),
      (error: unknown) => error instanceof XmlError && error.code === 'XML' && message.test(error.message),
    );

  test('an XXE DOCTYPE', () => {
    refuse(
      '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>',
      /DOCTYPE declarations are not allowed/,
    );
  });

  test('billion laughs', () => {
    const lol = `<!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><xml><a>&lol9;</a></xml>`;
    refuse(lol, /DOCTYPE/);
  });

  test('an undeclared entity reference', () => {
    refuse('<xml><a>&xxe;</a></xml>', /entity &xxe; in <a> is not allowed/);
  });

  test('10 MB of input', () => {
    refuse(`<xml><a>${'x'.repeat(10 * 1024 * 1024)}</a></xml>`, /exceeds the limit/);
  });

  test('1000-deep nesting', () => {
    refuse(`<xml>${'<a>'.repeat(1000)}x${'</a>'.repeat(1000)}</xml>`, /nested element inside <a>/);
  });

  test('a root other than <xml>', () => {
    refuse('<html><a>1</a></html>', /root element must be <xml>, got <html>/);
  });

  test('duplicate fields, attributes, comments, trailing content and truncation', () => {
    refuse('<xml><a>1</a><a>2</a></xml>', /field <a> appears twice/);
    refuse('<xml><a x="1">1</a></xml>', /attributes are not allowed/);
    refuse('<xml><!-- c --><a>1</a></xml>', /comments/);
    refuse('<xml><a>1</a></xml><xml></xml>', /unexpected content after/);
    refuse('<xml><a>1</a>', /missing <\/xml>/);
    refuse('<xml><a>1</b></xml>', /mismatched closing tag/);
    refuse('<xml><__proto__>1</__proto__></xml>', /invalid element name/);
  });
});

describe('buildXml', () => {
  test('wraps values in CDATA and splits a ]]> inside one', () => {
    assert.equal(
      buildXml({ a: 'x]]>y', n: 1 }),
      '<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a><n><![CDATA[1]]></n></xml>',
    );
    assert.deepEqual(parseXml(buildXml({ a: 'x]]>y' })), { a: 'x]]>y' });
  });

  test('leaves out null and undefined, refuses objects and bad names', () => {
    assert.equal(buildXml({ a: undefined, b: null, c: '' }), '<xml><c><![CDATA[]]></c></xml>');
    assert.throws(() => buildXml({ a: { b: 1 } }), /must be a string or number/);
    assert.throws(() => buildXml({ 'a b': '1' }), /invalid field name/);
    assert.throws(() => buildXml({ a: 'x\u0001' }), /cannot carry/);
    assert.throws(() => buildXml({ a: 'lone \uD800 surrogate' }), /cannot carry/);
  });
});

describe('codec, property-based', () => {
  const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/).filter((n) => n !== '__proto__');
  // Any text XML 1.0 can carry, plus the characters that break naive codecs.
  const xmlChar = fc
    .string({ unit: 'grapheme' })
    .map((s) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/\r/g, ''));
  const value = fc.oneof(
    xmlChar,
    fc.constantFrom('&', '=', ']]>', ']]]]>', '<![CDATA[', '&amp;', '微信支付', ''),
  );

  test('parseXml(buildXml(x)) returns x', () => {
    fc.assert(
      fc.property(fc.dictionary(name, value, { noNullPrototype: true }), (fields) => {
        assert.deepEqual(parseXml(buildXml(fields)), fields);
      }),
    );
  });

  test('agrees with fast-xml-parser on what buildXml writes', () => {
    fc.assert(
      fc.property(fc.dictionary(name, value, { minKeys: 1 }), (fields) => {
        const xml = buildXml(fields);
        const theirs = oracle.parse(xml).xml as Record<string, unknown>;
        for (const [k, v] of Object.entries(fields)) assert.equal(String(theirs[k] ?? ''), v);
      }),
      { numRuns: 200 },
    );
  });

  test('never throws anything but XmlError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), (input) => {
        try {
          parseXml(`<xml>${input}</xml>`);
        } catch (error) {
          assert.ok(error instanceof XmlError, String(error));
        }
      }),
    );
  });
});
