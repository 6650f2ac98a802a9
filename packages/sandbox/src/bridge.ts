// GET /sandbox/v1/bridge.js: a stand-in for WeChat's in-app WeixinJSBridge. Injected into a merchant's JSAPI
// page opened in a desktop browser, getBrandWCPayRequest pays against the sandbox with the page's own
// parameters, which the sandbox checks as WeChat's client does. A string here rather than a .js asset, so
// that both tsc's ESM output and the esbuild CJS bundle carry it.

/**
 * What the payer does when a page asks to pay (`bridge.js?outcome=`): pays (SUCCESS), fails (PAYERROR), closes
 * the payment sheet (CANCEL), or ASK, where the browser asks whoever is trying the page, as WeChat's sheet does.
 * The page's parameters are checked whatever the outcome, before any sheet would show.
 */
export const BRIDGE_OUTCOMES = ['SUCCESS', 'PAYERROR', 'CANCEL', 'ASK'] as const;
export type BridgeOutcome = (typeof BRIDGE_OUTCOMES)[number];

/** Who pays through the bridge: by default the payer the order names; `openid` plays someone else. */
export interface BridgeOptions {
  outcome?: BridgeOutcome;
  openid?: string;
}

/**
 * The script for a sandbox reachable at `origin`. Plain ES5 with XMLHttpRequest: it runs in whatever browser
 * the merchant opens. The JSON goes as text/plain, a CORS "simple request", so a page on any origin can POST
 * it without a preflight; the pay route parses it and answers with Access-Control-Allow-Origin: *.
 */
export function bridgeScript(origin: string, options: BridgeOptions = {}): string {
  return `(function () {
  'use strict';
  var PAY_URL = ${JSON.stringify(`${origin}/sandbox/v1/pay`)};
  var OUTCOME = ${JSON.stringify(options.outcome ?? 'SUCCESS')};
  var PAYER = ${JSON.stringify(options.openid ?? null)};
  var FAIL = 'get_brand_wcpay_request:fail';

  function chosenOutcome() {
    if (OUTCOME !== 'ASK') return OUTCOME;
    return window.confirm('wxpay sandbox: pay this order?\\n\\nOK pays it. Cancel closes the payment sheet ' +
      '(get_brand_wcpay_request:cancel).') ? 'SUCCESS' : 'CANCEL';
  }

  function later(callback, res) {
    setTimeout(function () { callback(res); }, 0);
  }

  function getBrandWCPayRequest(params, callback) {
    var xhr = new XMLHttpRequest();
    xhr.open('POST', PAY_URL);
    xhr.setRequestHeader('Content-Type', 'text/plain;charset=UTF-8');
    xhr.onload = function () {
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: reported below */ }
      if (answer.err_msg) {
        callback(answer.err_desc ? { err_msg: answer.err_msg, err_desc: answer.err_desc } : { err_msg: answer.err_msg });
      } else {
        callback({ err_msg: FAIL, err_desc: 'the sandbox answered HTTP ' + xhr.status + ': ' + xhr.responseText });
      }
    };
    xhr.onerror = function () {
      callback({
        err_msg: FAIL,
        err_desc: 'could not reach the sandbox at ' + PAY_URL + ': is it running, and does this browser trust its certificate?'
      });
    };
    var body = { jsapi: params, outcome: chosenOutcome() };
    if (PAYER) body.openid = PAYER;
    xhr.send(JSON.stringify(body));
  }

  function invoke(name, params, callback) {
    var done = typeof callback === 'function' ? callback : function () {};
    if (name === 'getBrandWCPayRequest') {
      getBrandWCPayRequest(params || {}, done);
    } else {
      later(done, { err_msg: name + ':fail', err_desc: 'the wxpay sandbox bridge only supports getBrandWCPayRequest' });
    }
  }

  window.WeixinJSBridge = { invoke: invoke, call: function () {}, on: function () {} };

  function ready() {
    var event;
    try {
      event = new Event('WeixinJSBridgeReady');
    } catch (e) {
      event = document.createEvent('Event');
      event.initEvent('WeixinJSBridgeReady', false, false);
    }
    document.dispatchEvent(event);
  }
  // After the page's own scripts have run, so a listener they add is there to hear it, as in WeChat.
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { setTimeout(ready, 0); });
  } else {
    setTimeout(ready, 0);
  }
})();
`;
}
