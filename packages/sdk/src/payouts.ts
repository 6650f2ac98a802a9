// What WechatPay's payout and marketing methods use, gathered behind one import.
export type { KeyObject } from 'node:crypto';
export { encryptForBank, readBankPublicKey } from './bank-encryption.js';
export { splitHbList } from './hblist.js';
export * from './payout-rules.js';
export type * from './payout-types.js';
