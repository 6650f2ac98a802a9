// The hosted checkout in headless Chromium against the gateway and the real sandbox.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Agent, request } from 'undici';
import { type BrowserStack, launchBrowser, SCREENSHOTS, startStack } from '../support/browser.ts';

const WECHAT_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.49 NetType/WIFI';
const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36';

describe('hosted checkout in Chromium', () => {
  let browser: Browser;
  let stack: BrowserStack;
  before(async () => {
    browser = await launchBrowser();
    stack = await startStack();
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** The page reached the session's success_url, and the session is complete. */
  async function completedAtSuccessUrl(page: Page, sessionId: string): Promise<void> {
    await page.waitForURL(/127\.0\.0\.1:9\/thanks/, { timeout: 15_000 });
    assert.equal(new URL(page.url()).searchParams.get('cs'), sessionId);
    const done = await stack.api('GET', `/v1/checkout/sessions/${sessionId}`);
    assert.equal(done.body.status, 'complete');
  }

  const newSession = async (extra: Record<string, unknown> = {}) => {
    const { status, body } = await stack.api('POST', '/v1/checkout/sessions', {
      amount: 1234,
      currency: 'CNY',
      description: 'Blue mug',
      success_url: 'http://127.0.0.1:9/thanks?cs={CHECKOUT_SESSION_ID}',
      cancel_url: 'http://127.0.0.1:9/cart',
      ...extra,
    });
    assert.equal(status, 200, JSON.stringify(body));
    return body as { id: string; url: string; payment_intent: string };
  };

  /**
   * A phone with the session's checkout open, for a merchant that registered the gateway's public host as its H5
   * payment domain (as the README asks); the registration is undone afterwards.
   */
  async function onPhoneWithH5Domain(
    session: { url: string },
    use: (page: Page) => Promise<void>,
  ): Promise<void> {
    // ignoreHTTPSErrors: Chromium does not know the sandbox's test CA (both ends are local test servers).
    const context = await browser.newContext({
      userAgent: PHONE_UA,
      locale: 'en-US',
      viewport: { width: 360, height: 740 },
      ignoreHTTPSErrors: true,
    });
    const mchId = stack.sandbox.merchants[0]!.mchId;
    assert.ok(stack.sandbox.setH5Domains(mchId, [new URL(session.url).hostname]).ok);
    try {
      const page = await context.newPage();
      await page.route('http://127.0.0.1:9/**', (route) => route.fulfill({ status: 200, body: 'thanks' }));
      await page.goto(session.url);
      await use(page);
    } finally {
      stack.sandbox.setH5Domains(mchId, []);
      await context.close();
    }
  }

  test('desktop: QR code and amount; paid on the sandbox payer page; the checkout redirects to success_url', async () => {
    const session = await newSession();
    const context = await browser.newContext({
      locale: 'en-US',
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 800 },
    });
    try {
      const page = await context.newPage();
      // The success_url's host is not listening: stop at the navigation itself.
      await page.route('http://127.0.0.1:9/**', (route) => route.fulfill({ status: 200, body: 'thanks' }));
      await page.goto(session.url);
      await page.getByText('Scan with WeChat to pay').waitFor();
      assert.equal(await page.getByTestId('amount').textContent(), '¥12.34');
      const qr = page.getByRole('img', { name: /WeChat Pay QR code for ¥12\.34/ });
      const codeUrl = await qr.getAttribute('data-code-url');
      assert.match(codeUrl ?? '', /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
      assert.ok(await qr.locator('svg').count(), 'the QR code is an inline SVG');
      assert.match((await page.getByTestId('countdown').textContent()) ?? '', /^(1:59|2:00):\d\d$/);
      await page.screenshot({ path: join(SCREENSHOTS, 'checkout-desktop.png') });

      const payer = await context.newPage();
      await payer.goto(`${stack.sandbox.url}/sandbox/pay?code_url=${encodeURIComponent(codeUrl!)}`);
      await payer.getByRole('button', { name: /Confirm payment/ }).click();
      await payer.getByText('Paid').waitFor();

      await completedAtSuccessUrl(page, session.id);
    } finally {
      await context.close();
    }
  });

  test('WeChat browser: the bridge says ok → "confirming…", and success only once the notify lands', async () => {
    const session = await newSession();
    const context = await browser.newContext({
      userAgent: WECHAT_UA,
      locale: 'en-US',
      viewport: { width: 360, height: 740 },
    });
    try {
      const page = await context.newPage();
      await page.route('http://127.0.0.1:9/**', (route) => route.fulfill({ status: 200, body: 'thanks' }));
      // WeChat's bridge, stubbed: it records the signed parameters and answers ok without paying.
      await page.addInitScript(() => {
        const w = globalThis as unknown as Record<string, unknown>;
        w.WeixinJSBridge = {
          invoke(name: string, params: Record<string, string>, callback: (res: { err_msg: string }) => void) {
            w.__bridgeCall = { name, params };
            setTimeout(() => callback({ err_msg: 'get_brand_wcpay_request:ok' }), 10);
          },
        };
      });
      await page.goto(session.url);
      await page.getByTestId('jsapi-pay').click();
      await page.getByText('Confirming your payment…').waitFor();
      const call = (await page.evaluate(
        () => (globalThis as unknown as Record<string, unknown>).__bridgeCall,
      )) as {
        name: string;
        params: Record<string, string>;
      };
      assert.equal(call.name, 'getBrandWCPayRequest');
      assert.match(call.params.package ?? '', /^prepay_id=/);
      assert.ok(call.params.paySign);
      // No notify yet: still confirming, still on the checkout page.
      await page.waitForTimeout(1500);
      assert.equal(await page.locator('#checkout').getAttribute('data-state'), 'confirming');
      assert.ok(page.url().startsWith(stack.url));

      const paid = stack.sandbox.pay({ prepay_id: call.params.package!.slice('prepay_id='.length) });
      assert.ok(paid.ok, JSON.stringify(paid));
      await page.waitForURL(/127\.0\.0\.1:9\/thanks/, { timeout: 15_000 });
    } finally {
      await context.close();
    }
  });

  /** A WeChat-like page with the sandbox's real bridge, whose payer does `outcome`. */
  async function withSandboxBridge(outcome: string, use: (page: Page) => Promise<void>): Promise<void> {
    // The sandbox's own CA, so this process can fetch the bridge over HTTPS.
    const bridge = await request(`${stack.sandbox.url}/sandbox/v1/bridge.js?outcome=${outcome}`, {
      dispatcher: new Agent({ connect: { ca: stack.sandbox.caCert } }),
    });
    assert.equal(bridge.statusCode, 200);
    // Chromium does not know the sandbox's test CA either: without ignoreHTTPSErrors the bridge's POST to the
    // sandbox would fail its TLS handshake. Acceptable here, where both ends are local test servers.
    // No bypassCSP: a test-mode checkout page itself lets the bridge post to the sandbox (connect-src).
    const context = await browser.newContext({
      userAgent: WECHAT_UA,
      locale: 'en-US',
      viewport: { width: 360, height: 740 },
      ignoreHTTPSErrors: true,
    });
    try {
      const page = await context.newPage();
      await page.route('http://127.0.0.1:9/**', (route) => route.fulfill({ status: 200, body: 'thanks' }));
      await page.addInitScript({ content: await bridge.body.text() });
      await use(page);
    } finally {
      await context.close();
    }
  }

  /** Opens the checkout, presses Pay, and returns what the sandbox answered the bridge. */
  async function pressPay(
    page: Page,
    url: string,
  ): Promise<{ err_msg: string; order?: { trade_state: string } }> {
    const answered = page.waitForResponse(`${stack.sandbox.url}/sandbox/v1/pay`);
    await page.goto(url);
    await page.getByTestId('jsapi-pay').click();
    return (await (await answered).json()) as { err_msg: string; order?: { trade_state: string } };
  }

  test("WeChat browser with the sandbox's real bridge: the checkout's paySign verifies and the notify completes it", async () => {
    const session = await newSession();
    await withSandboxBridge('SUCCESS', async (page) => {
      // The sandbox checks the page's parameters as WeChat's client does, and pays.
      const answer = await pressPay(page, session.url);
      assert.equal(answer.err_msg, 'get_brand_wcpay_request:ok', JSON.stringify(answer));
      assert.equal(answer.order?.trade_state, 'SUCCESS');
      await completedAtSuccessUrl(page, session.id);
    });
  });

  test('WeChat browser, the payment fails in the sheet: the page says it did not go through, not that it was canceled', async () => {
    const session = await newSession();
    await withSandboxBridge('PAYERROR', async (page) => {
      const answer = await pressPay(page, session.url);
      assert.equal(answer.err_msg, 'get_brand_wcpay_request:fail', JSON.stringify(answer));
      assert.equal(answer.order?.trade_state, 'PAYERROR');
      await page.getByText('The payment did not go through. You can try again.').waitFor();
    });
  });

  test('WeChat browser, the payer closes the payment sheet: the page offers to pay again and nothing is paid', async () => {
    const session = await newSession();
    await withSandboxBridge('CANCEL', async (page) => {
      const reported = page.waitForResponse((r) => r.url().endsWith('/client_result'));
      const answer = await pressPay(page, session.url);
      assert.equal(answer.err_msg, 'get_brand_wcpay_request:cancel', JSON.stringify(answer));
      assert.equal(answer.order?.trade_state, 'NOTPAY');
      await page.getByText('Payment canceled. You can try again.').waitFor();
      assert.equal(await page.getByTestId('jsapi-pay').isEnabled(), true);
      assert.equal((await reported).status(), 200);
      // The gateway's answer and the status updates after it leave the message up for the payer to read.
      await page.waitForTimeout(1000);
      assert.equal(await page.locator('#live').textContent(), 'Payment canceled. You can try again.');
      const intent = await stack.api('GET', `/v1/payment_intents/${session.payment_intent}`);
      assert.equal(intent.body.status, 'requires_action');
      const ref = intent.body.wechat_pay.out_trade_no;
      const moved = stack.sandbox
        .ledger(stack.sandbox.merchants[0]!.mchId)
        .movements.filter((m) => m.ref === ref);
      assert.deepEqual(moved, [], 'no money moved');
    });
  });

  test('a phone gets the H5 button; 360 px wide with no horizontal scroll; zh/en switch', async () => {
    const session = await newSession({
      line_items: [{ name: '蓝色马克杯 Blue mug', quantity: 2, amount: 617 }],
    });
    const context = await browser.newContext({
      userAgent: PHONE_UA,
      locale: 'zh-CN',
      extraHTTPHeaders: { 'accept-language': 'zh-CN,zh;q=0.9' },
      viewport: { width: 360, height: 740 },
    });
    try {
      const page = await context.newPage();
      await page.goto(session.url);
      const button = page.getByTestId('h5-pay');
      assert.equal(await button.textContent(), '打开微信支付');
      // The gateway's route, which redirects to a live mweb_url when tapped.
      assert.equal(await button.getAttribute('href'), `/checkout/${session.id}/h5?lang=zh`);
      assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
      const scroll = await page.evaluate(
        () =>
          (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
            .documentElement.scrollWidth,
      );
      assert.ok(scroll <= 360, `no horizontal scroll at 360 px (scrollWidth ${scroll})`);
      await page.screenshot({ path: join(SCREENSHOTS, 'checkout-mobile.png'), fullPage: true });
      await page.getByRole('link', { name: 'English' }).click();
      await page.getByTestId('h5-pay').waitFor();
      assert.equal(await page.getByTestId('h5-pay').textContent(), 'Pay in WeChat');
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    } finally {
      await context.close();
    }
  });

  test("a phone taps the H5 button: WeChat's H5 page gets the gateway's origin as Referer, and the payment completes", async () => {
    const session = await newSession();
    await onPhoneWithH5Domain(session, async (page) => {
      const opened = page.waitForRequest((r) => r.url().startsWith(`${stack.sandbox.url}/sandbox/pay?`));
      await page.getByTestId('h5-pay').click();
      // What went over the wire: the origin only, never the checkout's path with its session id.
      const referer = await (await opened).headerValue('referer');
      assert.equal(referer, `${new URL(session.url).origin}/`);
      // The sandbox, which refuses an mweb_url opened without it (商家参数格式有误), shows the order.
      await page.getByRole('button', { name: /Confirm payment/ }).click();
      // The sandbox page sends the payer back through redirect_url (the checkout), which moves on to success_url.
      await completedAtSuccessUrl(page, session.id);
    });
  });

  test("a phone that taps Pay more than 5 minutes after opening the checkout reaches a live mweb_url for the same order, with the gateway's origin as Referer, and can pay", async () => {
    const session = await newSession();
    await onPhoneWithH5Domain(session, async (page) => {
      await page.getByTestId('h5-pay').waitFor();
      const mwebOf = async () => {
        const { body } = await stack.api('GET', `/v1/payment_intents/${session.payment_intent}`);
        return {
          url: body.next_action.wechat_pay_redirect_to_web.url as string,
          outTradeNo: body.wechat_pay.out_trade_no,
        };
      };
      const shown = await mwebOf();
      // The payer leaves the page open; WeChat (the sandbox) and the gateway both see 6 minutes go by.
      await stack.advance(6 * 60_000);
      const outlived = stack.sandbox.pay({ mweb_url: shown.url });
      assert.equal(
        !outlived.ok && outlived.error.code,
        'MWEB_URL_EXPIRED',
        'the mweb_url the page was loaded with is dead',
      );

      const opened = page.waitForRequest((r) => r.url().startsWith(`${stack.sandbox.url}/sandbox/pay?`));
      await page.getByTestId('h5-pay').click();
      const wechat = await opened;
      const renewed = await mwebOf();
      assert.equal(renewed.outTradeNo, shown.outTradeNo, 'the same order');
      assert.notEqual(renewed.url, shown.url);
      assert.equal(wechat.url(), renewed.url, 'the tap reached the renewed mweb_url');
      assert.equal(await wechat.headerValue('referer'), `${new URL(session.url).origin}/`);
      await page.getByRole('button', { name: /Confirm payment/ }).click();
      await completedAtSuccessUrl(page, session.id);
      assert.equal(
        (await stack.api('GET', `/v1/payment_intents/${session.payment_intent}`)).body.amount,
        1234,
      );
    });
  });

  test('an expired session shows "expired", live while the page is open', async () => {
    const session = await newSession();
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      await page.goto(session.url);
      await page.getByTestId('qr').waitFor();
      const expired = await stack.api('POST', `/v1/checkout/sessions/${session.id}/expire`, {});
      assert.equal(expired.body.status, 'expired');
      await page.getByText('This checkout has expired.').waitFor({ timeout: 10_000 });
      assert.equal(await page.getByTestId('qr').isVisible(), false);
      await page.reload();
      assert.equal(await page.locator('#checkout').getAttribute('data-state'), 'expired');
    } finally {
      await context.close();
    }
  });
});
