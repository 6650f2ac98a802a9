// 现金红包: sendredpack, sendgroupredpack (fission, ALL_RAND) and gethbinfo.
import { buildXml } from '@wxpay/sdk';
import {
  expireRedpack,
  markSent,
  REDPACK_MAX_AMOUNT,
  REDPACK_MIN_SHARE,
  REDPACK_REFUND_SECONDS,
  REDPACK_SCENE_THRESHOLD,
  REDPACK_SEND_SECONDS,
  type Redpack,
  splitAmount,
} from '../ledger/payouts.js';
import { dateKey, dateTime } from '../time.js';
import { fingerprint, IP, MERCHANT_NO } from '../validate.js';
import { NONCE, PAYOUT_ROW } from './common.js';
import { type Answer, type CallContext, type EndpointDef, refused, type Services } from './types.js';

/** How many red packets one user may receive from one merchant per day. */
const DAILY_REDPACKS_PER_USER = 10;
/** gethbinfo finds a red packet for 30 days after it was sent; older ones only the merchant platform shows. */
const QUERY_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;
const SCENES = [
  'PRODUCT_1',
  'PRODUCT_2',
  'PRODUCT_3',
  'PRODUCT_4',
  'PRODUCT_5',
  'PRODUCT_6',
  'PRODUCT_7',
  'PRODUCT_8',
];

const COMMON_RULES = [
  NONCE,
  { name: 'mch_billno', required: true, max: 28, pattern: MERCHANT_NO },
  { name: 'mch_id', required: true, max: 32 },
  { name: 'wxappid', required: true, max: 32 },
  { name: 'send_name', required: true, max: 32 },
  { name: 're_openid', required: true, max: 32 },
  { name: 'total_amount', required: true, int: { min: 1 } },
  { name: 'total_num', required: true, int: { min: 1 } },
  { name: 'wishing', required: true, max: 128 },
  { name: 'act_name', required: true, max: 32 },
  { name: 'remark', required: true, max: 256 },
  { name: 'scene_id', oneOf: SCENES },
  { name: 'risk_info', max: 128 },
] as const;

function sendReply(r: Redpack): Answer {
  return {
    kind: 'ok',
    fields: {
      return_msg: '发放成功',
      mch_billno: r.mchBillno,
      re_openid: r.reOpenid,
      total_amount: r.totalAmount,
      send_listid: r.sendListId,
    },
  };
}

function send(ctx: CallContext, hbType: 'NORMAL' | 'GROUP'): Answer {
  const { fields, ledger, now } = ctx;
  const mchId = ctx.merchant.mchId;
  const print = fingerprint(fields);
  const existing = ledger.redpack(mchId, fields.mch_billno!);
  if (existing) {
    // mch_billno is re-entrant: the same request gets the first answer and never pays twice.
    if (existing.fingerprint !== print)
      return refused('PARAM_ERROR', '商户订单号已使用，且参数与原请求不一致');
    return sendReply(existing);
  }
  const totalAmount = Number(fields.total_amount);
  const totalNum = Number(fields.total_num);
  if (hbType === 'NORMAL' && totalNum !== 1) return refused('PARAM_ERROR', 'total_num必须为1');
  if (hbType === 'GROUP' && (totalNum < 3 || totalNum > 20))
    return refused('PARAM_ERROR', '红包个数必须在3到20之间');
  // scene_id is required when the packet's total is over 200 yuan, for fission packets too.
  if (!fields.scene_id && totalAmount > REDPACK_SCENE_THRESHOLD)
    return refused('PARAM_ERROR', '金额大于200元时，scene_id必填');
  // Without scene_id the total is at most 200 yuan already, so only the general cap is left to check.
  if (totalAmount < REDPACK_MIN_SHARE * totalNum || totalAmount > REDPACK_MAX_AMOUNT * totalNum) {
    return refused('MONEY_LIMIT', '每个红包的平均金额必须在1.00元到200.00元之间');
  }
  const today = dateKey(now);
  const receivedToday = [...ledger.redpacks.values()].filter(
    (r) => r.mchId === mchId && r.reOpenid === fields.re_openid && dateKey(r.createdAt) === today,
  ).length;
  if (receivedToday >= DAILY_REDPACKS_PER_USER)
    return refused('SENDNUMLIMIT', '该用户今日领取红包个数超过限制');
  if (ledger.balance(mchId) < totalAmount)
    return refused('NOTENOUGH', '帐号余额不足，请到商户平台充值后再重试');
  const shares = hbType === 'NORMAL' ? [totalAmount] : splitAmount(totalAmount, totalNum, ledger.random);
  const redpack = ledger.saveRedpack({
    mchId,
    wxappid: fields.wxappid!,
    mchBillno: fields.mch_billno!,
    sendListId: ledger.newId('sendlist', now),
    detailId: ledger.newId('detail', now),
    hbType,
    reOpenid: fields.re_openid!,
    totalAmount,
    totalNum,
    shares: shares.map((amount) => ({ amount, openid: undefined, receivedAt: undefined })),
    status: 'SENDING',
    sendName: fields.send_name!,
    wishing: fields.wishing!,
    actName: fields.act_name!,
    remark: fields.remark!,
    sceneId: fields.scene_id || undefined,
    createdAt: now,
    refundedAt: undefined,
    refundAmount: 0,
    fingerprint: print,
  });
  ledger.move(mchId, 'redpack', -totalAmount, redpack.mchBillno, redpack.sendListId, now);
  scheduleRedpack(ctx, redpack);
  return sendReply(redpack);
}

/** A red packet is SENT REDPACK_SEND_SECONDS after it was made, and what is unopened returns after 24 h. */
export function scheduleRedpack(services: Services, redpack: Redpack): void {
  const { ledger, clock } = services;
  const { mchId, mchBillno: billno } = redpack;
  clock.at(redpack.createdAt + REDPACK_SEND_SECONDS * 1000, () => {
    const current = ledger.redpack(mchId, billno);
    if (current) ledger.saveRedpack(markSent(current));
  });
  clock.at(redpack.createdAt + REDPACK_REFUND_SECONDS * 1000, () => {
    const current = ledger.redpack(mchId, billno);
    if (!current) return;
    const at = clock.now();
    const expired = expireRedpack(current, at);
    ledger.saveRedpack(expired.redpack);
    if (expired.refund > 0)
      ledger.move(mchId, 'redpack_refund', expired.refund, billno, current.sendListId, at);
  });
}

export const sendRedpack: EndpointDef = {
  ...PAYOUT_ROW,
  appidField: 'wxappid',
  name: 'sendredpack',
  path: '/mmpaymkttransfers/sendredpack',
  rules: [...COMMON_RULES, { name: 'client_ip', required: true, max: 15, pattern: IP }],
  handle: (ctx) => send(ctx, 'NORMAL'),
};

export const sendGroupRedpack: EndpointDef = {
  ...PAYOUT_ROW,
  appidField: 'wxappid',
  name: 'sendgroupredpack',
  path: '/mmpaymkttransfers/sendgroupredpack',
  rules: [...COMMON_RULES, { name: 'amt_type', required: true, oneOf: ['ALL_RAND'] }],
  handle: (ctx) => send(ctx, 'GROUP'),
};

/** The receivers, as WeChat nests them: <hblist><hbinfo>…</hbinfo></hblist>. */
function hblist(r: Redpack): string | undefined {
  const received = r.shares.filter((s) => s.openid !== undefined);
  if (received.length === 0) return undefined;
  const items = received.map((s) =>
    buildXml(
      { openid: s.openid, amount: String(s.amount), rcv_time: dateTime(s.receivedAt ?? r.createdAt) },
      'hbinfo',
    ),
  );
  return `<hblist>${items.join('')}</hblist>`;
}

export const getRedpackInfo: EndpointDef = {
  ...PAYOUT_ROW,
  name: 'gethbinfo',
  path: '/mmpaymkttransfers/gethbinfo',
  rules: [
    NONCE,
    { name: 'mch_billno', required: true, max: 28, pattern: MERCHANT_NO },
    { name: 'mch_id', required: true, max: 32 },
    { name: 'appid', required: true, max: 32 },
    { name: 'bill_type', required: true, oneOf: ['MCHT'] },
  ],
  handle(ctx) {
    const r = ctx.ledger.redpack(ctx.merchant.mchId, ctx.fields.mch_billno!);
    if (!r || ctx.now - r.createdAt > QUERY_WINDOW_MS) return refused('NOT_FOUND', '指定单号数据不存在');
    const nested = hblist(r);
    const answer: Answer = {
      kind: 'ok',
      fields: {
        return_msg: 'OK',
        mch_billno: r.mchBillno,
        detail_id: r.detailId,
        status: r.status,
        send_type: 'API',
        hb_type: r.hbType,
        total_num: r.totalNum,
        total_amount: r.totalAmount,
        send_time: dateTime(r.createdAt),
        refund_time: r.refundedAt === undefined ? undefined : dateTime(r.refundedAt),
        refund_amount: r.refundedAt === undefined ? undefined : r.refundAmount,
        wishing: r.wishing,
        remark: r.remark,
        act_name: r.actName,
      },
    };
    return nested ? { ...answer, nestedXml: nested } : answer;
  },
};
