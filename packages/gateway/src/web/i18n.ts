// The checkout page's and dashboard's texts in Chinese and English, and picking one from Accept-Language.

export type Lang = 'zh' | 'en';

const zh = {
  htmlLang: 'zh-CN',
  title: '微信支付收银台',
  switchTo: 'English',
  testMode: '测试模式：不会产生真实扣款',
  amount: '支付金额',
  order: '订单内容',
  scan: '请使用微信扫一扫完成支付',
  qrAlt: '微信支付二维码，金额 {amount}',
  expiresIn: '剩余支付时间',
  h5Pay: '打开微信支付',
  h5Hint: '将跳转到微信完成支付，支付后会自动返回本页。',
  jsapiPay: '立即支付',
  confirming: '正在确认支付结果…',
  succeeded: '支付成功，正在返回商户…',
  returnToMerchant: '返回商户',
  expired: '此订单已过期，请返回商户重新下单。',
  retry: '二维码已失效。',
  newQr: '获取新的二维码',
  canceledByPayer: '支付已取消，可以重新支付。',
  failedByPayer: '支付未完成，可以重新支付。',
  cancel: '取消并返回商户',
  sandboxPayer: '测试：打开沙箱付款页',
  unavailable: '暂时无法发起支付，请稍后刷新重试。',
  notFound: '找不到该订单。',
  liveNoOauth: '请长按识别二维码完成支付。',
} as const;

export type Texts = { [K in keyof typeof zh]: string };

const en: Texts = {
  htmlLang: 'en',
  title: 'WeChat Pay checkout',
  switchTo: '中文',
  testMode: 'Test mode: no real money moves',
  amount: 'Amount',
  order: 'Order',
  scan: 'Scan with WeChat to pay',
  qrAlt: 'WeChat Pay QR code for {amount}',
  expiresIn: 'Time left to pay',
  h5Pay: 'Pay in WeChat',
  h5Hint: 'You will be taken to WeChat to pay, then brought back here.',
  jsapiPay: 'Pay now',
  confirming: 'Confirming your payment…',
  succeeded: 'Payment successful. Returning to the merchant…',
  returnToMerchant: 'Return to the merchant',
  expired: 'This checkout has expired. Please go back to the merchant and order again.',
  retry: 'This QR code has expired.',
  newQr: 'Get a new QR code',
  canceledByPayer: 'Payment canceled. You can try again.',
  failedByPayer: 'The payment did not go through. You can try again.',
  cancel: 'Cancel and return to the merchant',
  sandboxPayer: 'Test: open the sandbox payer page',
  unavailable: 'Payment cannot start right now. Please refresh in a moment.',
  notFound: 'No such checkout.',
  liveNoOauth: 'Long-press the QR code to pay.',
};

export const TEXTS: Record<Lang, Texts> = { zh, en };

/** `?lang=` wins; then the first of zh/en in Accept-Language by q; Chinese by default. */
export function pickLang(query: string | undefined, acceptLanguage: string | undefined): Lang {
  if (query === 'zh' || query === 'en') return query;
  if (!acceptLanguage) return 'zh';
  const ranked = acceptLanguage
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';');
      const q = Number(
        params
          .find((p) => p.trim().startsWith('q='))
          ?.trim()
          .slice(2) ?? '1',
      );
      return { tag, q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    if (tag.startsWith('zh')) return 'zh';
    if (tag.startsWith('en')) return 'en';
  }
  return 'zh';
}

export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
