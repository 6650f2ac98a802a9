// The checkout page's script, inlined. It only displays what the gateway says: success comes from the
// session's status (Server-Sent Events, polling as the fallback), never from WeChat's bridge callback.
export const CHECKOUT_JS = `(function () {
  var cfg = JSON.parse(document.getElementById('checkout-config').textContent);
  var root = document.getElementById('checkout');
  var live = document.getElementById('live');
  var skew = Date.now() - cfg.serverNow;
  var finished = false, source = null, timer = null;
  // What the payer's last action led to ("canceled, try again"): kept while the page stays in that state,
  // so the status updates that follow do not wipe it before it is read.
  var note = null;

  function show(state, text) {
    root.setAttribute('data-state', state);
    if (note && note.state !== state) note = null;
    live.textContent = text || (note && note.text) || cfg.text[state] || '';
  }
  function stop() {
    if (source) source.close();
    if (timer) clearInterval(timer);
  }
  function apply(status) {
    if (finished || !status || !status.state) return;
    show(status.state);
    if (status.state === 'succeeded' || status.state === 'expired') {
      finished = true;
      stop();
      if (status.state === 'succeeded' && status.redirect_url) {
        setTimeout(function () { location.href = status.redirect_url; }, 600);
      }
    }
  }
  function poll() {
    fetch(cfg.statusUrl, { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(apply)
      .catch(function () {});
  }
  function startPolling() {
    if (!timer && !finished) { timer = setInterval(poll, cfg.pollMs); poll(); }
  }
  if (window.EventSource) {
    source = new EventSource(cfg.eventsUrl);
    source.onmessage = function (e) { apply(JSON.parse(e.data)); };
    source.onerror = function () { source.close(); source = null; startPolling(); };
  } else {
    startPolling();
  }

  var clock = document.getElementById('countdown-time');
  function tick() {
    var left = Math.max(0, Math.floor((cfg.expiresAt - (Date.now() - skew)) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    if (clock) clock.textContent = (h ? h + ':' + pad(m) : m) + ':' + pad(s);
    if (left === 0 && !finished) { poll(); }
  }
  if (clock) { tick(); setInterval(tick, 1000); }

  var pay = document.getElementById('jsapi-pay');
  function report(msg) {
    return fetch(cfg.clientResultUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ err_msg: msg })
    }).then(function (r) { return r.json(); }).then(apply).catch(function () {});
  }
  function invoke() {
    window.WeixinJSBridge.invoke('getBrandWCPayRequest', cfg.jsapi, function (res) {
      var msg = (res && res.err_msg) || 'get_brand_wcpay_request:fail';
      if (/:ok$/.test(msg)) {
        // WeChat's ok is only a claim: show "confirming" until the gateway has WeChat's verified result.
        show('confirming');
        report(msg);
      } else {
        if (pay) pay.disabled = false;
        var said = /:cancel$/.test(msg) ? cfg.text.canceledByPayer : cfg.text.failedByPayer;
        note = { state: root.getAttribute('data-state'), text: said };
        live.textContent = note.text;
        report(msg);
      }
    });
  }
  if (pay && cfg.jsapi) {
    pay.addEventListener('click', function () {
      pay.disabled = true;
      if (window.WeixinJSBridge) invoke();
      else document.addEventListener('WeixinJSBridgeReady', invoke, false);
    });
  }
})();`;
