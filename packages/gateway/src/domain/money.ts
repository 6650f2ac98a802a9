// Currencies, the FX table and the amount limits: exact integer arithmetic, no floats.
import { ApiError } from './errors.js';

export const CURRENCIES = ['CNY', 'HKD', 'USD', 'EUR', 'GBP'] as const;
export type Currency = (typeof CURRENCIES)[number];

/** US dollars per one major unit. Override with the gateway's `fxUsdPerUnit` setting. */
export const DEFAULT_FX_USD_PER_UNIT: Record<Currency, string> = {
  CNY: '0.14',
  HKD: '0.128',
  USD: '1',
  EUR: '1.08',
  GBP: '1.27',
};

export function isCurrency(value: string): value is Currency {
  return (CURRENCIES as readonly string[]).includes(value);
}

/** Parses a positive decimal string into numerator / 10^scale. */
function decimal(text: string): { units: bigint; scale: bigint } {
  const [whole = '0', fraction = ''] = text.split('.');
  return { units: BigInt(whole + fraction), scale: 10n ** BigInt(fraction.length) };
}

/**
 * Refuses an amount (minor units, all five currencies have two decimals) below 1 or above the equivalent
 * of `maxUsd` dollars at the configured rate.
 */
export function checkAmount(
  amount: number,
  currency: Currency,
  fx: Record<Currency, string>,
  maxUsd: number,
): void {
  if (!Number.isSafeInteger(amount) || amount < 1) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'amount_too_small',
      'amount must be an integer of at least 1 (minor units)',
      'amount',
    );
  }
  const rate = decimal(fx[currency]);
  // amount/100 * rate <= maxUsd  ⇔  amount * units <= maxUsd * 100 * scale
  if (BigInt(amount) * rate.units > BigInt(Math.floor(maxUsd)) * 100n * rate.scale) {
    throw new ApiError(
      400,
      'invalid_request_error',
      'amount_too_large',
      `amount ${amount} ${currency} (minor units) is above the limit of ${maxUsd} USD at ${fx[currency]} USD per ${currency}`,
      'amount',
    );
  }
}
