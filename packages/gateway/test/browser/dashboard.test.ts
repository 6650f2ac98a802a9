// The dashboard in headless Chromium: log in, find a payment, refund 1 yuan of it, CSRF refusal, log out; then the
// payouts, webhooks (retry a delivery) and API keys (create, revoke → 401) views.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { runWebhookDeliveries } from '../../src/index.ts';
import { type BrowserStack, launchBrowser, SCREENSHOTS, startStack } from '../support/browser.ts';

describe('dashboard in Chromium', () => {
  let browser: Browser;
  let stack: BrowserStack;
  let paidId: string;
  before(async () => {
    browser = await launchBrowser();
    stack = await startStack();
    mkdirSync(SCREENSHOTS, { recursive: true });
    const created = await stack.api('POST', '/v1/payment_intents', {
      amount: 2500,
      currency: 'CNY',
      description: 'Dashboard mug',
      confirm: true,
      payment_method_options: { wechat_pay: { terminal_type: 'WEB' } },
    });
    paidId = created.body.id;
    const paid = stack.sandbox.pay({
      code_url: created.body.next_action.wechat_pay_display_qr_code.image_data_url,
    });
    assert.ok(paid.ok);
    const deadline = Date.now() + 10_000;
    while ((await stack.api('GET', `/v1/payment_intents/${paidId}`)).body.status !== 'succeeded') {
      if (Date.now() > deadline) throw new Error('the payment did not succeed');
      await new Promise((r) => setTimeout(r, 50));
    }
    await stack.api('POST', '/v1/payment_intents', { amount: 100, currency: 'CNY', description: 'Unpaid' });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test('log in, see the overview, filter payments, refund 1 yuan, and log out; a forged POST is refused', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(`${stack.url}/dashboard`);
      await page.getByLabel(/Secret key/).fill('sk_test_not_a_real_key_000000');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').getByText('not valid').waitFor();
      await page.getByLabel(/Secret key/).fill(stack.key);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      await page.getByTestId('test-mode').waitFor();
      assert.equal(await page.getByTestId('today-volume').textContent(), '¥25.00');
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === 'wxpay_dashboard');
      assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
      assert.equal(session?.sameSite, 'Strict');
      await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-overview.png') });

      // A forged POST carries the cookie (same browser) but not the CSRF token: refused, nothing refunded.
      const forged = await page.request.post(`${stack.url}/dashboard/payments/${paidId}/refund`, {
        form: { amount: '25.00', confirm: 'yes' },
      });
      assert.equal(forged.status(), 403);

      await page.getByRole('link', { name: 'Payments' }).click();
      assert.equal(await page.getByTestId('payment-row').count(), 2);
      await page.getByLabel('Status').selectOption('succeeded');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/status=succeeded/);
      assert.equal(await page.getByTestId('payment-row').count(), 1);
      await page.getByRole('link', { name: paidId }).click();
      assert.equal(await page.getByTestId('detail-status').textContent(), 'succeeded');
      assert.match((await page.getByTestId('timeline').textContent()) ?? '', /payment_intent\.succeeded/);
      assert.equal(await page.getByTestId('refund-row').count(), 0);

      await page.getByLabel(/^Amount/).fill('1.00');
      await page.getByLabel('I confirm this refund').check();
      await page.getByRole('button', { name: 'Refund' }).click();
      await page.getByTestId('refund-row').waitFor();
      assert.match((await page.getByTestId('refund-row').textContent()) ?? '', /¥1\.00/);
      const refunds = await stack.api('GET', `/v1/refunds?payment_intent=${paidId}`);
      assert.equal(refunds.body.data.length, 1);
      assert.equal(refunds.body.data[0].amount, 100);

      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      await page.goto(`${stack.url}/dashboard/payments`);
      assert.match(page.url(), /\/dashboard\/login$/);
    } finally {
      await context.close();
    }
  });

  const logIn = async (page: Page, key: string) => {
    await page.goto(`${stack.url}/dashboard/login`);
    await page.getByLabel(/Secret key/).fill(key);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
  };

  test('payouts list a sent red packet with its raw WeChat reply', async () => {
    const sent = await stack.api('POST', '/v1/redpacks', {
      type: 'normal',
      re_openid: 'oDashboardRedpack0000000000001',
      send_name: '测试商户',
      total_amount: 150,
      total_num: 1,
      wishing: '恭喜发财 <script>',
      act_name: '新年红包',
      remark: '新年红包',
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await logIn(page, stack.key);
      await page.getByRole('link', { name: 'Payouts' }).click();
      assert.equal(await page.getByTestId('payout-row').count(), 1);
      await page.getByRole('link', { name: 'Transfers' }).click();
      assert.equal(await page.getByTestId('payout-row').count(), 0);
      await page.getByRole('link', { name: 'Red packets' }).click();
      await page.getByRole('link', { name: sent.body.id }).click();
      assert.equal(await page.getByTestId('payout-amount').textContent(), '¥1.50');
      assert.match((await page.getByTestId('payout-reply').first().textContent()) ?? '', /<send_listid>/);
      // The wishing text is shown as text, not markup.
      assert.match((await page.locator('main').textContent()) ?? '', /恭喜发财 <script>/);
    } finally {
      await context.close();
    }
  });

  test('webhooks show a failed attempt; "retry" redelivers the event and the log shows the success', async () => {
    let hits = 0;
    const receiver: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hits++;
        res.writeHead(hits === 1 ? 500 : 200).end(hits === 1 ? 'receiver down' : 'ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const context = await browser.newContext();
    try {
      const { port } = receiver.address() as AddressInfo;
      const endpoint = await stack.api('POST', '/v1/webhook_endpoints', {
        url: `http://127.0.0.1:${port}/hooks`,
        enabled_events: ['payment_intent.created'],
      });
      assert.equal(endpoint.status, 200, JSON.stringify(endpoint.body));
      // Endpoints take events from after their creation.
      await stack.api('POST', '/v1/payment_intents', { amount: 300, currency: 'CNY', description: 'Hooked' });
      await runWebhookDeliveries(stack.gateway.ctx);
      assert.equal(hits, 1);

      const page = await context.newPage();
      await logIn(page, stack.key);
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('link', { name: endpoint.body.url }).click();
      const delivery = page.getByTestId('delivery');
      assert.equal(await delivery.count(), 1);
      assert.equal(await delivery.getByTestId('delivery-status').textContent(), 'pending');
      assert.match(
        (await delivery.getByTestId('attempt-row').textContent()) ?? '',
        /500[\s\S]*receiver down/,
      );

      // A forged retry (no CSRF token) is refused and redelivers nothing.
      const eventId = ((await delivery.getByRole('heading').textContent()) ?? '').split(' ')[0]!;
      const forged = await page.request.post(`${stack.url}/dashboard/events/${eventId}/retry`, {
        form: { endpoint: endpoint.body.id },
      });
      assert.equal(forged.status(), 403);

      await delivery.getByRole('button', { name: /Retry/ }).click();
      await page.getByRole('status').getByText('will be redelivered').waitFor();
      await runWebhookDeliveries(stack.gateway.ctx);
      assert.equal(hits, 2);
      await page.reload();
      assert.equal(await page.getByTestId('delivery-status').textContent(), 'succeeded');
      assert.equal(await page.getByTestId('attempt-row').count(), 2);
      assert.match((await page.getByTestId('attempt-row').first().textContent()) ?? '', /200/);
      await stack.api('POST', `/v1/webhook_endpoints/${endpoint.body.id}`, { disabled: true });
    } finally {
      await context.close();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  test('API keys: create one (shown once), revoke it (the API then answers 401); the own key needs a second tick', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await logIn(page, stack.key);
      await page.getByRole('link', { name: 'API keys' }).click();
      assert.equal(await page.getByTestId('api-key-row').count(), 1);
      assert.doesNotMatch((await page.locator('main').textContent()) ?? '', new RegExp(stack.key));
      await page.getByRole('button', { name: 'Create secret key' }).click();
      const secret = (await page.getByTestId('new-api-key').textContent()) ?? '';
      assert.match(secret, /^sk_test_[0-9A-Za-z]{32}$/);
      const withNew = await fetch(`${stack.url}/v1/payment_intents?limit=1`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      assert.equal(withNew.status, 200);
      await page.getByRole('link', { name: 'API keys' }).click();
      assert.equal(await page.getByTestId('new-api-key').count(), 0, 'the secret is shown only once');
      assert.equal(await page.getByTestId('api-key-row').count(), 2);

      const redacted = `${secret.slice(0, 8)}…${secret.slice(-4)}`;
      const row = page.getByTestId('api-key-row').filter({ hasText: redacted });
      await row.getByLabel(/Confirm revoking/).check();
      await row.getByRole('button', { name: `Revoke ${redacted}` }).click();
      await page.waitForURL(/\/dashboard\/api_keys$/);
      assert.match((await row.getByTestId('api-key-state').textContent()) ?? '', /^revoked/);
      const revoked = await fetch(`${stack.url}/v1/payment_intents?limit=1`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      assert.equal(revoked.status, 401);

      // The session's own key: one tick is not enough (the browser's `required` is bypassed to prove the server checks).
      const own = page.getByTestId('api-key-row').filter({ hasText: '(this session)' });
      await own.getByLabel(/Confirm revoking/).check();
      await own.locator('input[name=confirm_current]').evaluate((el) => el.removeAttribute('required'));
      await own.getByRole('button', { name: /Revoke/ }).click();
      await page.getByRole('alert').getByText('opened this session').waitFor();
      assert.equal((await stack.api('GET', '/v1/payment_intents?limit=1')).status, 200);
    } finally {
      await context.close();
    }
  });
  test('a canceled payment WeChat reports paid is flagged on its page and can be refunded there', async () => {
    const paid = await stack.paidIntent(300);
    // WeChat contradicting itself cannot be played by the sandbox: the intent is put in the state a
    // paid-after-cancel notify leaves it in (canceled, with WeChat's transaction_id), over a real paid order.
    await stack.gateway.ctx.db
      .updateTable('payment_intents')
      .set({ status: 'canceled', cancellation_reason: 'expired' })
      .where('id', '=', paid.id)
      .execute();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await logIn(page, stack.key);
      await page.goto(`${stack.url}/dashboard/payments/${paid.id}`);
      assert.equal(await page.getByTestId('detail-status').textContent(), 'canceled');
      assert.match(
        (await page.getByTestId('paid-after-cancel').textContent()) ?? '',
        new RegExp(`transaction ${paid.wechat_pay.transaction_id}`),
      );
      await page.getByLabel('I confirm this refund').check();
      await page.getByRole('button', { name: 'Refund' }).click();
      await page.getByTestId('refund-row').waitFor();
      assert.match((await page.getByTestId('refund-row').textContent()) ?? '', /¥3\.00/);
      const refunds = await stack.api('GET', `/v1/refunds?payment_intent=${paid.id}`);
      assert.deepEqual(
        refunds.body.data.map((r: { amount: number }) => r.amount),
        [300],
      );
    } finally {
      await context.close();
    }
  });
});
