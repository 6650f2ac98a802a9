// WeChat's payout rules, checked before anything is stored or sent: each broken rule is a 400 naming it.
import { REDPACK_SCENE_ID_THRESHOLD } from '@wxpay/sdk';
import { ApiError } from './errors.js';

/** Each receiver of a red packet gets at least 1 yuan. */
export const REDPACK_MIN_PER_PERSON = 100;
/** Without scene_id a red packet averages at most 200 yuan a person; with one, at most 4999 yuan. */
export const REDPACK_MAX_PER_PERSON = 20_000;
export const REDPACK_MAX_PER_PERSON_WITH_SCENE = 499_900;
export const FISSION_MIN_NUM = 3;
export const FISSION_MAX_NUM = 20;
/** WeChat's limits on a transfer to a user's balance: 0.30 to 20 000 yuan. */
export const TRANSFER_MIN_AMOUNT = 30;
export const TRANSFER_MAX_AMOUNT = 2_000_000;
export const SCENE_IDS = [
  'PRODUCT_1',
  'PRODUCT_2',
  'PRODUCT_3',
  'PRODUCT_4',
  'PRODUCT_5',
  'PRODUCT_6',
  'PRODUCT_7',
  'PRODUCT_8',
] as const;

function ruleBroken(rule: string, param: string, message: string): ApiError {
  return new ApiError(400, 'invalid_request_error', rule, message, param);
}

export interface RedpackRuleInput {
  type: 'normal' | 'fission';
  total_amount: number;
  total_num: number;
  scene_id?: string;
  amt_type?: string;
}

/** total_num, scene_id above 200 yuan, and the per-person amount limits. */
export function checkRedpackRules(input: RedpackRuleInput): void {
  const { type, total_amount: amount, total_num: num } = input;
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw ruleBroken('amount_invalid', 'total_amount', 'total_amount must be a positive whole number of fen');
  }
  if (type === 'normal' && num !== 1) {
    throw ruleBroken(
      'redpack_total_num',
      'total_num',
      `A normal red packet goes to one person: total_num must be 1, got ${num}`,
    );
  }
  if (type === 'fission' && !(num >= FISSION_MIN_NUM && num <= FISSION_MAX_NUM)) {
    throw ruleBroken(
      'redpack_total_num',
      'total_num',
      `A fission red packet is shared by ${FISSION_MIN_NUM} to ${FISSION_MAX_NUM} people, got total_num ${num}`,
    );
  }
  if (type === 'normal' && input.amt_type !== undefined) {
    throw ruleBroken('parameter_invalid', 'amt_type', 'amt_type applies to fission red packets only');
  }
  if (amount > REDPACK_SCENE_ID_THRESHOLD && !input.scene_id) {
    throw ruleBroken(
      'redpack_scene_id_required',
      'scene_id',
      `scene_id is required for red packets above 200 yuan (total_amount ${amount} fen)`,
    );
  }
  const maxEach = input.scene_id ? REDPACK_MAX_PER_PERSON_WITH_SCENE : REDPACK_MAX_PER_PERSON;
  if (amount < REDPACK_MIN_PER_PERSON * num || amount > maxEach * num) {
    throw ruleBroken(
      'redpack_amount_limit',
      'total_amount',
      `Each person's red packet must average ${REDPACK_MIN_PER_PERSON / 100} to ${maxEach / 100} yuan: ` +
        `total_amount ${amount} fen for ${num} ${num === 1 ? 'person' : 'people'} is outside that`,
    );
  }
}

export interface TransferRuleInput {
  amount: number;
  check_name: 'NO_CHECK' | 'FORCE_CHECK';
  re_user_name?: string;
}

export function checkTransferRules(input: TransferRuleInput): void {
  if (
    !Number.isSafeInteger(input.amount) ||
    input.amount < TRANSFER_MIN_AMOUNT ||
    input.amount > TRANSFER_MAX_AMOUNT
  ) {
    throw ruleBroken(
      'transfer_amount_limit',
      'amount',
      `A transfer is ${TRANSFER_MIN_AMOUNT} to ${TRANSFER_MAX_AMOUNT} fen (0.30 to 20000 yuan), got ${input.amount}`,
    );
  }
  if (input.check_name === 'FORCE_CHECK' && !input.re_user_name) {
    throw ruleBroken(
      'transfer_re_user_name_required',
      're_user_name',
      "check_name FORCE_CHECK needs re_user_name, the receiver's real name",
    );
  }
}
