// The dashboard in headless Chromium: log in, find a payment, refund 1 yuan of it, CSRF refusal, log out.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { type BrowserStack, launchBrowser, startStack } from '../support/browser.ts';

const SHOTS = join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'screenshots');

describe('dashboard in Chromium', () => {
  let browser: Browser;
  let stack: BrowserStack;
  let paidId: string;
  before(async () => {
    browser = await launchBrowser();
    stack = await startStack();
    mkdirSync(SHOTS, { recursive: true });
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
      await page.screenshot({ path: join(SHOTS, 'dashboard-overview.png') });

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
});
