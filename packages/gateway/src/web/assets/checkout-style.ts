// The checkout page's CSS, inlined (one request, no build step). Colours meet WCAG AA contrast on white.
export const CHECKOUT_CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",system-ui,sans-serif;background:#f2f2f2;color:#1a1a1a}
.banner{background:#8a4b00;color:#fff;text-align:center;padding:6px 12px;font-size:14px}
main{max-width:420px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:12px;padding:20px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
header{display:flex;justify-content:space-between;align-items:center;gap:8px;margin-bottom:8px}
h1{font-size:18px;margin:0}
.lang{font-size:14px;color:#05602f}
.label{color:#555;font-size:14px;margin:12px 0 0}
.amount{font-size:32px;font-weight:600;margin:0}
.description{margin:4px 0 0;overflow-wrap:anywhere}
ul.items{list-style:none;padding:0;margin:8px 0 0;font-size:14px;color:#333}
ul.items li{display:flex;justify-content:space-between;gap:8px;border-top:1px solid #eee;padding:4px 0}
.qr{margin:16px auto 0;text-align:center}
.qr [role=img]{width:220px;max-width:100%;margin:0 auto}
.qr svg{width:100%;height:auto;display:block}
.qr figcaption{margin-top:8px}
.countdown{text-align:center;color:#555;font-size:14px;margin:8px 0 0}
.countdown time{font-variant-numeric:tabular-nums;color:#1a1a1a;font-weight:600}
.btn{display:block;width:100%;text-align:center;background:#05783c;color:#fff;border:0;border-radius:8px;padding:14px;font-size:17px;text-decoration:none;margin-top:16px;cursor:pointer}
.btn:focus-visible,a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
.hint{font-size:14px;color:#555}
.status{text-align:center;font-size:18px;margin:20px 0 0;font-weight:600}
.when{display:none}
[data-state=pay] .when-pay,[data-state=confirming] .when-confirming,[data-state=retry] .when-retry,
[data-state=succeeded] .when-succeeded,[data-state=expired] .when-expired,[data-state=unavailable] .when-unavailable{display:block}
footer{margin-top:16px;text-align:center;font-size:14px}
footer a{color:#05602f}
.sandbox{font-size:13px;text-align:center;margin-top:12px}
.sandbox a{color:#8a4b00}
`;
