// Payouts and marketing: transfers, red packets (normal and fission) and coupons, through the SDK.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { BusinessError, type WechatPay } from '@wxpay/sdk';
import type { Merchant, Sandbox } from '../src/index.ts';
import { control, rawPost, signedXml, start, tradeNo } from './support.ts';

describe('payouts', () => {
  let sandbox: Sandbox;
  let merchant: Merchant;
  let pay: WechatPay;

  before(async () => {
    ({ sandbox, merchant, pay } = await start({ seed: 'payouts' }));
  });
  after(async () => {
    await pay.close();
    await sandbox.close();
  });

  const isCode = (code: string) => (e: unknown) => e instanceof BusinessError && e.errCode === code;
  const balance = () => sandbox.ledger(merchant.mchId).balance;
  const transfer = (extra: Record<string, string | number> = {}) => ({
    partner_trade_no: tradeNo('P'),
    openid: `o${tradeNo()}`,
    check_name: 'NO_CHECK',
    amount: 100,
    desc: '奖励',
    spbill_create_ip: '127.0.0.1',
    ...extra,
  });

  describe('transfers', () => {
    test('PROCESSING then SUCCESS; resending partner_trade_no pays once', async () => {
      const params = transfer();
      const start = balance();
      const sent = await pay.call('transfer', params);
      assert.match(sent.payment_no ?? '', /^\d+$/);
      const again = await pay.call('transfer', params);
      assert.equal(again.payment_no, sent.payment_no);
      assert.equal(balance(), start - 100);
      assert.equal(
        (await pay.call('getTransferInfo', { partner_trade_no: params.partner_trade_no })).status,
        'PROCESSING',
      );
      await sandbox.clock.advance(3);
      const info = await pay.call('getTransferInfo', { partner_trade_no: params.partner_trade_no });
      assert.equal(info.status, 'SUCCESS');
      assert.equal(info.payment_amount, '100');
      await assert.rejects(pay.call('transfer', { ...params, amount: 101 }), isCode('PARAM_ERROR'));
    });

    test('a transfer to a frozen account FAILS and the money comes back', async () => {
      const params = transfer({ openid: 'banned-user' });
      const start = balance();
      await pay.call('transfer', params);
      await sandbox.clock.advance(3);
      const info = await pay.call('getTransferInfo', { partner_trade_no: params.partner_trade_no });
      assert.equal(info.status, 'FAILED');
      assert.ok(info.reason);
      assert.equal(balance(), start);
    });

    test('NOTENOUGH, NAME_MISMATCH, AMOUNT_LIMIT and NOT_FOUND', async () => {
      await control(sandbox, 'PUT', `/sandbox/v1/merchants/${merchant.mchId}/balance`, { balance: 99 });
      await assert.rejects(pay.call('transfer', transfer()), isCode('NOTENOUGH'));
      await control(sandbox, 'PUT', `/sandbox/v1/merchants/${merchant.mchId}/balance`, {
        balance: 100_000_000,
      });
      await assert.rejects(
        pay.call('transfer', transfer({ check_name: 'FORCE_CHECK', re_user_name: '张三' })),
        isCode('NAME_MISMATCH'),
      );
      assert.ok(
        (await pay.call('transfer', transfer({ check_name: 'FORCE_CHECK', re_user_name: '测试用户' })))
          .payment_no,
      );
      await assert.rejects(pay.call('transfer', transfer({ amount: 29 })), isCode('AMOUNT_LIMIT'));
      await assert.rejects(pay.call('getTransferInfo', { partner_trade_no: 'nope' }), isCode('NOT_FOUND'));
    });
  });

  describe('red packets', () => {
    const redpack = (extra: Record<string, string | number> = {}) => ({
      mch_billno: tradeNo('B').slice(0, 28),
      send_name: '沙箱商户',
      re_openid: `o${tradeNo()}`.slice(0, 32),
      total_amount: 1000,
      total_num: 1,
      wishing: '恭喜发财',
      client_ip: '127.0.0.1',
      act_name: '测试',
      remark: '备注',
      ...extra,
    });

    test('SENDING → SENT → RECEIVED; gethbinfo lists the receiver in a nested hblist', async () => {
      const params = redpack();
      const sent = await pay.call('sendRedpack', params);
      assert.ok(sent.send_listid);
      assert.equal(
        (await pay.call('getRedpackInfo', { mch_billno: params.mch_billno, bill_type: 'MCHT' })).status,
        'SENDING',
      );
      await sandbox.clock.advance(1);
      assert.equal(
        (await pay.call('getRedpackInfo', { mch_billno: params.mch_billno, bill_type: 'MCHT' })).status,
        'SENT',
      );
      const opened = await control(sandbox, 'POST', `/sandbox/v1/redpacks/${params.mch_billno}/open`, {});
      assert.equal(opened.status, 200);
      assert.equal(opened.json.amount, 1000);
      const raw = await rawPost(
        `${sandbox.url}/mmpaymkttransfers/gethbinfo`,
        signedXml(
          { appid: merchant.appid, mch_id: merchant.mchId, mch_billno: params.mch_billno, bill_type: 'MCHT' },
          merchant.key,
        ),
        { ca: sandbox.caCert, cert: { pfx: merchant.pfx, passphrase: merchant.passphrase } },
      );
      assert.match(raw.text, /<status><!\[CDATA\[RECEIVED\]\]><\/status>/);
      assert.match(
        raw.text,
        new RegExp(
          `<hblist><hbinfo><openid><!\\[CDATA\\[${params.re_openid}\\]\\]></openid><amount><!\\[CDATA\\[1000\\]\\]></amount>`,
        ),
      );
    });

    test('a fission packet’s receivers come back through the SDK’s getRedpackInfo as its hblist', async () => {
      const params = redpack({ total_num: 3, total_amount: 600, amt_type: 'ALL_RAND' });
      delete (params as Record<string, unknown>).client_ip;
      await pay.call('sendGroupRedpack', params);
      await sandbox.clock.advance(1);
      for (const openid of ['oA', 'oB']) {
        await control(sandbox, 'POST', `/sandbox/v1/redpacks/${params.mch_billno}/open`, { openid });
      }
      const info = await pay.getRedpackInfo({ mch_billno: params.mch_billno });
      assert.equal(info.hb_type, 'GROUP');
      assert.deepEqual(
        info.hblist.map((r) => r.openid),
        ['oA', 'oB'],
      );
      assert.ok(info.hblist.every((r) => Number(r.amount) >= 100));
    });

    test('the same mch_billno never pays twice', async () => {
      const params = redpack();
      const start = balance();
      const a = await pay.call('sendRedpack', params);
      const b = await pay.call('sendRedpack', params);
      assert.equal(a.send_listid, b.send_listid);
      assert.equal(balance(), start - 1000);
      await assert.rejects(pay.call('sendRedpack', { ...params, total_amount: 1001 }), isCode('PARAM_ERROR'));
    });

    test('above 200 yuan scene_id is required', async () => {
      await assert.rejects(pay.call('sendRedpack', redpack({ total_amount: 30_000 })), /scene_id/);
      const ok = await pay.call('sendRedpack', redpack({ total_amount: 30_000, scene_id: 'PRODUCT_1' }));
      assert.equal(ok.total_amount, '30000');
      await assert.rejects(pay.call('sendRedpack', redpack({ total_amount: 99 })), isCode('MONEY_LIMIT'));
      // A fission packet counts its total, not its average: 300 yuan over 3 shares needs scene_id too.
      const group = { total_amount: 30_000, total_num: 3, amt_type: 'ALL_RAND' };
      await assert.rejects(pay.call('sendGroupRedpack', redpack(group)), /scene_id/);
      const sent = await pay.call('sendGroupRedpack', redpack({ ...group, scene_id: 'PRODUCT_2' }));
      assert.equal(sent.total_amount, '30000');
    });

    test('an unopened red packet is refunded after 24 hours', async () => {
      const params = redpack();
      await pay.call('sendRedpack', params);
      await sandbox.clock.advance(24 * 3600 - 2);
      const before = await pay.call('getRedpackInfo', { mch_billno: params.mch_billno, bill_type: 'MCHT' });
      assert.equal(before.status, 'SENT');
      await sandbox.clock.advance(2);
      const info = await pay.call('getRedpackInfo', { mch_billno: params.mch_billno, bill_type: 'MCHT' });
      assert.equal(info.status, 'REFUND');
      assert.equal(info.refund_amount, '1000');
      const moves = sandbox.ledger(merchant.mchId).movements.filter((m) => m.ref === params.mch_billno);
      assert.deepEqual(
        moves.map((m) => [m.kind, m.amount]),
        [
          ['redpack', -1000],
          ['redpack_refund', 1000],
        ],
      );
      const late = await control(sandbox, 'POST', `/sandbox/v1/redpacks/${params.mch_billno}/open`, {});
      assert.equal(late.status, 409);
    });

    test('gethbinfo answers for 30 days after the send, then NOT_FOUND', async () => {
      // A sandbox of its own: a month on the shared clock would age what the other tests set up.
      const own = await start({ seed: 'redpack-window' });
      try {
        const params = redpack();
        await own.pay.call('sendRedpack', params);
        const query = () =>
          own.pay.call('getRedpackInfo', { mch_billno: params.mch_billno, bill_type: 'MCHT' });
        await own.sandbox.clock.advance(30 * 24 * 3600 - 60);
        assert.equal((await query()).status, 'REFUND');
        await own.sandbox.clock.advance(120);
        await assert.rejects(query(), isCode('NOT_FOUND'));
        // Only the query is over: the packet is still re-entrant, never paid twice.
        const before = own.sandbox.ledger(own.merchant.mchId).balance;
        await own.pay.call('sendRedpack', params);
        assert.equal(own.sandbox.ledger(own.merchant.mchId).balance, before);
      } finally {
        await own.pay.close();
        await own.sandbox.close();
      }
    });

    test('a fission red packet splits randomly among total_num receivers and adds up', async () => {
      await assert.rejects(
        pay.call('sendGroupRedpack', redpack({ total_num: 2, amt_type: 'ALL_RAND' })),
        isCode('PARAM_ERROR'),
      );
      const params = redpack({ total_num: 3, total_amount: 900, amt_type: 'ALL_RAND' });
      delete (params as Record<string, unknown>).client_ip;
      await pay.call('sendGroupRedpack', params);
      await sandbox.clock.advance(1);
      const amounts: number[] = [];
      for (let i = 0; i < 3; i++) {
        const opened = await control(sandbox, 'POST', `/sandbox/v1/redpacks/${params.mch_billno}/open`, {
          openid: `oFriend${i}`,
        });
        amounts.push(opened.json.amount as number);
      }
      assert.equal(
        amounts.reduce((a, b) => a + b, 0),
        900,
      );
      assert.ok(amounts.every((a) => a >= 100));
      const full = await control(sandbox, 'POST', `/sandbox/v1/redpacks/${params.mch_billno}/open`, {
        openid: 'oLate',
      });
      assert.equal(full.status, 409);
    });

    test('more than 10 red packets a day to one user is SENDNUMLIMIT', async () => {
      const openid = `o${tradeNo()}`.slice(0, 32);
      for (let i = 0; i < 10; i++)
        await pay.call('sendRedpack', redpack({ re_openid: openid, total_amount: 100 }));
      await assert.rejects(
        pay.call('sendRedpack', redpack({ re_openid: openid, total_amount: 100 })),
        isCode('SENDNUMLIMIT'),
      );
    });
  });

  describe('bank payouts', () => {
    test('pay_bank decrypts the card with the getpublickey key, charges the fee, and settles', async () => {
      const partner_trade_no = tradeNo('K');
      const start = balance();
      const params = {
        partner_trade_no,
        bank_no: '6222020200112233445',
        true_name: '测试用户',
        bank_code: '1002',
        amount: 10_000,
        desc: 'payout',
      };
      const paid = await pay.payBank(params);
      assert.equal(paid.cmms_amt, '100', '0.1%, at least 1 yuan');
      const again = await pay.payBank(params);
      assert.equal(again.payment_no, paid.payment_no, 'a resend (freshly encrypted) pays once');
      assert.equal(balance(), start - 10_100);
      assert.equal((await pay.queryBank({ partner_trade_no })).status, 'PROCESSING');
      await sandbox.clock.advance(10);
      const done = await pay.queryBank({ partner_trade_no });
      assert.equal(done.status, 'SUCCESS');
      assert.equal(done.bank_no_md5, createHash('md5').update('6222020200112233445').digest('hex'));
    });

    test('a card the bank refuses ends BANK_FAIL and the money and fee come back', async () => {
      const partner_trade_no = tradeNo('K');
      const start = balance();
      await pay.payBank({
        partner_trade_no,
        bank_no: '0000111122223333',
        true_name: '测试用户',
        bank_code: '1002',
        amount: 500,
      });
      await sandbox.clock.advance(10);
      assert.equal((await pay.queryBank({ partner_trade_no })).status, 'BANK_FAIL');
      assert.equal(balance(), start);
    });

    test('card fields not encrypted with the sandbox key are refused', async () => {
      const reply = await rawPost(
        `${sandbox.url}/mmpaysptrans/pay_bank`,
        signedXml(
          {
            mch_id: merchant.mchId,
            partner_trade_no: tradeNo('K'),
            enc_bank_no: 'bm90IGVuY3J5cHRlZA==',
            enc_true_name: 'eA==',
            bank_code: '1002',
            amount: '500',
          },
          merchant.key,
        ),
        { ca: sandbox.caCert, cert: { pfx: merchant.pfx, passphrase: merchant.passphrase } },
      );
      assert.equal(reply.fields?.err_code, 'PARAM_ERROR');
    });
  });

  describe('coupons', () => {
    test('a seeded stock sends coupons, idempotent by partner_trade_no, three per user', async () => {
      const stock = await pay.call('queryCouponStock', { coupon_stock_id: merchant.couponStockId });
      assert.equal(stock.coupon_total, '100');
      const openid = `o${tradeNo()}`;
      const send = (partner_trade_no: string) =>
        pay.call('sendCoupon', {
          coupon_stock_id: merchant.couponStockId,
          openid_count: 1,
          partner_trade_no,
          openid,
        });
      const first = await send('C1');
      const again = await send('C1');
      assert.equal(again.coupon_id, first.coupon_id);
      const info = await pay.call('queryCouponsInfo', {
        coupon_id: first.coupon_id ?? '',
        openid,
        stock_id: merchant.couponStockId,
      });
      assert.equal(info.coupon_state, 'SENDED');
      assert.equal(info.coupon_value, '500');
      await send('C2');
      await send('C3');
      await assert.rejects(send('C4'), isCode('USER_AL_GET_COUPON'));
      const after = await pay.call('queryCouponStock', { coupon_stock_id: merchant.couponStockId });
      assert.equal(after.is_send_num, '3');
      await assert.rejects(pay.call('queryCouponStock', { coupon_stock_id: '999' }), isCode('NOT_FOUND'));
    });
  });
});
