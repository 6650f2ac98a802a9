// A gateway on a real database, talking over HTTPS to the SDK's mock WeChat, which plays the payer too.
import { buildXml, nonce, sign } from '@wxpay/sdk';
import {
  MERCHANT,
  type MockWechat,
  signedReply,
  startMockWechat,
} from '../../../sdk/test/support/mock-wechat.ts';
import { createAccount, createApiKey } from '../../src/domain/accounts.ts';
import { buildGateway, type Gateway } from '../../src/index.ts';
import { apiClient, type Json } from './api-client.ts';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.ts';

export interface MockOrder {
  out_trade_no: string;
  total_fee: string;
  fee_type: string;
  trade_type: string;
  state: 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'USERPAYING' | 'PAYERROR';
  transaction_id: string;
}

export type { Json } from './api-client.ts';

export interface Harness {
  gateway: Gateway;
  url: string;
  accountId: string;
  key: string;
  /** A second account's key, for cross-account checks. */
  otherKey: string;
  mock: MockWechat;
  orders: Map<string, MockOrder>;
  /** Current time seen by the gateway; tests move it forward for the jobs. */
  clock: { now: number };
  api(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Json; headers: Headers }>;
  /** The payer pays: the mock's order becomes SUCCESS and the signed notify XML is returned (not sent). */
  pay(outTradeNo: string, overrides?: Record<string, string>): string;
  postNotify(xml: string, accountId?: string): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export function notifyXml(
  order: MockOrder,
  overrides: Record<string, string> = {},
  key: string = MERCHANT.key,
): string {
  const fields: Record<string, string> = {
    return_code: 'SUCCESS',
    result_code: 'SUCCESS',
    appid: MERCHANT.appid,
    mch_id: MERCHANT.mchId,
    nonce_str: nonce(),
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    is_subscribe: 'N',
    trade_type: order.trade_type,
    bank_type: 'CMC',
    total_fee: order.total_fee,
    fee_type: order.fee_type,
    cash_fee: order.total_fee,
    transaction_id: order.transaction_id,
    out_trade_no: order.out_trade_no,
    time_end: '20260101120000',
    ...overrides,
  };
  return buildXml({ ...fields, sign: sign(fields, key, 'MD5') });
}

export async function startHarness(kind: DatabaseKind): Promise<Harness> {
  const database: TestDatabase = await createTestDatabase(kind);
  const mock = await startMockWechat();
  const orders = new Map<string, MockOrder>();
  let txn = 0;
  const newTxn = () => `4200000${String(++txn).padStart(21, '0')}`;

  mock.on('/pay/unifiedorder', ({ fields }) => {
    const order: MockOrder = orders.get(fields.out_trade_no!) ?? {
      out_trade_no: fields.out_trade_no!,
      total_fee: fields.total_fee!,
      fee_type: fields.fee_type ?? 'CNY',
      trade_type: fields.trade_type!,
      state: 'NOTPAY',
      transaction_id: newTxn(),
    };
    orders.set(order.out_trade_no, order);
    const prepayId = `wx${order.out_trade_no}`;
    return {
      body: signedReply({
        trade_type: order.trade_type,
        prepay_id: prepayId,
        ...(order.trade_type === 'NATIVE'
          ? { code_url: `weixin://wxpay/bizpayurl?pr=${order.out_trade_no.slice(0, 7)}` }
          : {}),
        ...(order.trade_type === 'MWEB'
          ? {
              mweb_url: `https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=${prepayId}&package=1037687096`,
            }
          : {}),
      }),
    };
  });
  mock.on('/pay/orderquery', ({ fields }) => {
    const order = orders.get(fields.out_trade_no!);
    if (!order)
      return {
        body: signedReply({
          result_code: 'FAIL',
          err_code: 'ORDERNOTEXIST',
          err_code_des: '此交易订单号不存在',
        }),
      };
    return {
      body: signedReply({
        out_trade_no: order.out_trade_no,
        trade_state: order.state,
        trade_state_desc: order.state,
        ...(order.state === 'SUCCESS'
          ? {
              total_fee: order.total_fee,
              fee_type: order.fee_type,
              transaction_id: order.transaction_id,
              trade_type: order.trade_type,
            }
          : {}),
      }),
    };
  });
  mock.on('/pay/closeorder', ({ fields }) => {
    const order = orders.get(fields.out_trade_no!);
    if (order?.state === 'SUCCESS')
      return {
        body: signedReply({ result_code: 'FAIL', err_code: 'ORDERPAID', err_code_des: '订单已支付' }),
      };
    if (order) order.state = 'CLOSED';
    return { body: signedReply({}) };
  });
  mock.on('/pay/micropay', ({ fields }) => {
    const order: MockOrder = {
      out_trade_no: fields.out_trade_no!,
      total_fee: fields.total_fee!,
      fee_type: fields.fee_type ?? 'CNY',
      trade_type: 'MICROPAY',
      state: /^1[35]/.test(fields.auth_code!) ? 'SUCCESS' : 'USERPAYING',
      transaction_id: newTxn(),
    };
    orders.set(order.out_trade_no, order);
    if (order.state === 'USERPAYING') {
      return {
        body: signedReply({
          result_code: 'FAIL',
          err_code: 'USERPAYING',
          err_code_des: '需要用户输入支付密码',
        }),
      };
    }
    return {
      body: signedReply({
        out_trade_no: order.out_trade_no,
        // Codes starting 15 answer another amount than was asked: a reply to refuse.
        total_fee: fields.auth_code!.startsWith('15') ? '1' : order.total_fee,
        fee_type: order.fee_type,
        transaction_id: order.transaction_id,
        trade_type: 'MICROPAY',
      }),
    };
  });

  const clock = { now: Date.now() };
  const gateway = await buildGateway({
    databaseUrl: database.url,
    testWechat: { baseUrl: mock.url, ca: mock.ca.certPem },
    now: () => clock.now,
    wechatTimeoutMs: 5000,
  });
  const url = await gateway.listen();
  const db = gateway.ctx.db;
  const { id: accountId } = await createAccount(db, {
    appid: MERCHANT.appid,
    mchId: MERCHANT.mchId,
    key: MERCHANT.key,
  });
  const key = await createApiKey(db, accountId, false);
  const other = await createAccount(db, {
    appid: 'wx0000000000000001',
    mchId: '1900000999',
    key: 'k'.repeat(32),
  });
  const otherKey = await createApiKey(db, other.id, false);

  return {
    gateway,
    url,
    accountId,
    key,
    otherKey,
    mock,
    orders,
    clock,
    api: apiClient(url, key),
    pay(outTradeNo, overrides = {}) {
      const order = orders.get(outTradeNo);
      if (!order) throw new Error(`the mock has no order ${outTradeNo}`);
      order.state = 'SUCCESS';
      return notifyXml(order, overrides);
    },
    async postNotify(xml, account = accountId) {
      const response = await fetch(`${url}/notify/wechatpay/${account}`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        body: xml,
      });
      return { status: response.status, text: await response.text() };
    },
    async close() {
      await gateway.close();
      await mock.close();
      await database.drop();
    },
  };
}
