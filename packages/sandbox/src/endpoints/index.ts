// The endpoint table: every path the sandbox answers, in the protocol file's order.
import { getPublicKey, payBank, queryBank } from './bank.js';
import { downloadBill, downloadFundFlow } from './bills.js';
import { queryCouponStock, queryCouponsInfo, sendCoupon } from './coupons.js';
import { closeOrder, micropay, orderQuery, reverseOrder, unifiedOrder } from './pay.js';
import { getRedpackInfo, sendGroupRedpack, sendRedpack } from './redpacks.js';
import { refund, refundQuery } from './refund.js';
import { getSignKey } from './signkey.js';
import { getTransferInfo, transfers } from './transfers.js';
import type { EndpointDef } from './types.js';

export const ENDPOINT_TABLE: readonly EndpointDef[] = [
  unifiedOrder,
  micropay,
  orderQuery,
  closeOrder,
  reverseOrder,
  refund,
  refundQuery,
  downloadBill,
  downloadFundFlow,
  transfers,
  getTransferInfo,
  sendRedpack,
  sendGroupRedpack,
  getRedpackInfo,
  sendCoupon,
  queryCouponStock,
  queryCouponsInfo,
  getSignKey,
  // Not in the protocol file's table, but in the SDK's: bank payouts and their key.
  getPublicKey,
  payBank,
  queryBank,
];
