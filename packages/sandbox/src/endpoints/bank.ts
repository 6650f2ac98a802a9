// Bank payouts: getpublickey (the RSA key for the card fields), pay_bank and query_bank.
import { constants, createHash, privateDecrypt } from 'node:crypto';
import {
  BANK_SETTLE_SECONDS,
  type BankPayout,
  bankFee,
  FAILING_CARD_PREFIX,
  settleBankPayout,
} from '../ledger/bank.js';
import { dateTime } from '../time.js';
import { MERCHANT_NO } from '../validate.js';
import { NONCE, PAYOUT_ROW } from './common.js';
import { type Answer, type CallContext, type EndpointDef, refused, type Services } from './types.js';

const BANK_ROW = { ...PAYOUT_ROW, appidField: null } as const;
const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
const MIN_AMOUNT = 100;
const MAX_AMOUNT = 2_000_000;

export const getPublicKey: EndpointDef = {
  ...BANK_ROW,
  name: 'getpublickey',
  path: '/risk/getpublickey',
  rules: [{ name: 'mch_id', required: true, max: 32 }, NONCE, { name: 'sign_type', oneOf: ['MD5'] }],
  handle: (ctx) => ({ kind: 'ok', fields: { pub_key: ctx.bankKey().publicPem } }),
};

function decrypt(ctx: CallContext, field: string): string | undefined {
  try {
    const clear = privateDecrypt(
      { key: ctx.bankKey().privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from(ctx.fields[field] ?? '', 'base64'),
    ).toString('utf8');
    return clear || undefined;
  } catch {
    return undefined;
  }
}

function payReply(p: BankPayout): Answer {
  return {
    kind: 'ok',
    fields: {
      partner_trade_no: p.partnerTradeNo,
      amount: p.amount,
      payment_no: p.paymentNo,
      cmms_amt: p.fee,
    },
  };
}

export const payBank: EndpointDef = {
  ...BANK_ROW,
  name: 'pay_bank',
  path: '/mmpaysptrans/pay_bank',
  rules: [
    { name: 'mch_id', required: true, max: 32 },
    NONCE,
    { name: 'partner_trade_no', required: true, max: 32, pattern: MERCHANT_NO },
    { name: 'enc_bank_no', required: true, max: 512 },
    { name: 'enc_true_name', required: true, max: 512 },
    { name: 'bank_code', required: true, pattern: /^\d{4}$/ },
    { name: 'amount', required: true, int: { min: 1 } },
    { name: 'desc', max: 100 },
  ],
  handle(ctx) {
    const { fields, ledger, now } = ctx;
    const mchId = ctx.merchant.mchId;
    // The card fields are encrypted afresh on every call, so a resend is recognised by their clear text.
    const bankNo = decrypt(ctx, 'enc_bank_no');
    const trueName = decrypt(ctx, 'enc_true_name');
    if (!bankNo || !trueName)
      return refused('PARAM_ERROR', 'enc_bank_no或enc_true_name解密失败，请使用getpublickey获取的公钥加密');
    const print = [fields.amount, fields.bank_code, fields.desc ?? '', md5(bankNo), md5(trueName)].join('|');
    const existing = ledger.bankPayout(mchId, fields.partner_trade_no!);
    if (existing) {
      if (existing.fingerprint !== print)
        return refused('PARAM_ERROR', '商户订单号重复，且参数与原请求不一致');
      return payReply(existing);
    }
    const amount = Number(fields.amount);
    if (amount < MIN_AMOUNT || amount > MAX_AMOUNT) return refused('AMOUNT_LIMIT', '付款金额超出限制');
    const fee = bankFee(amount);
    if (ledger.balance(mchId) < amount + fee) return refused('NOTENOUGH', '余额不足');
    const payout = ledger.saveBankPayout({
      mchId,
      partnerTradeNo: fields.partner_trade_no!,
      paymentNo: ledger.newId('payment', now),
      bankNoMd5: md5(bankNo),
      trueNameMd5: md5(trueName),
      bankCode: fields.bank_code!,
      amount,
      fee,
      desc: fields.desc ?? '',
      status: 'PROCESSING',
      reason: undefined,
      createdAt: now,
      paidAt: undefined,
      fingerprint: print,
      cardFails: bankNo.startsWith(FAILING_CARD_PREFIX),
    });
    ledger.move(mchId, 'bank', -(amount + fee), payout.partnerTradeNo, payout.paymentNo, now);
    scheduleBankSettlement(ctx, payout);
    return payReply(payout);
  },
};

/** BANK_SETTLE_SECONDS after it was made, a PROCESSING payout succeeds, or fails and the money returns. */
export function scheduleBankSettlement(services: Services, payout: BankPayout): void {
  const { ledger, clock } = services;
  clock.at(payout.createdAt + BANK_SETTLE_SECONDS * 1000, () => {
    const current = ledger.bankPayout(payout.mchId, payout.partnerTradeNo);
    if (current?.status !== 'PROCESSING') return;
    const at = clock.now();
    const settled = ledger.saveBankPayout(settleBankPayout(current, at));
    if (settled.status === 'BANK_FAIL') {
      ledger.move(
        settled.mchId,
        'bank_return',
        settled.amount + settled.fee,
        settled.partnerTradeNo,
        settled.paymentNo,
        at,
      );
    }
  });
}

export const queryBank: EndpointDef = {
  ...BANK_ROW,
  name: 'query_bank',
  path: '/mmpaysptrans/query_bank',
  rules: [
    { name: 'mch_id', required: true, max: 32 },
    NONCE,
    { name: 'partner_trade_no', required: true, max: 32, pattern: MERCHANT_NO },
  ],
  handle(ctx) {
    const p = ctx.ledger.bankPayout(ctx.merchant.mchId, ctx.fields.partner_trade_no!);
    if (!p) return refused('NOT_FOUND', '指定单号数据不存在');
    return {
      kind: 'ok',
      fields: {
        partner_trade_no: p.partnerTradeNo,
        payment_no: p.paymentNo,
        bank_no_md5: p.bankNoMd5,
        true_name_md5: p.trueNameMd5,
        amount: p.amount,
        status: p.status,
        cmms_amt: p.fee,
        create_time: dateTime(p.createdAt),
        pay_succ_time: p.paidAt === undefined ? undefined : dateTime(p.paidAt),
        reason: p.reason,
      },
    };
  },
};
