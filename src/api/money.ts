/**
 * Money never touches a float. USD amounts travel as decimal strings (`"0.004250"`) and
 * live inside as integers of micro-USD: a budget compares integers, so 0.1 + 0.2 spent
 * is exactly 0.3 spent, and a refusal never hinges on a rounding error.
 */

/** A USD amount as a decimal string, at most six decimals. `[.]` keeps it a valid CEL string literal too. */
export const USD_DECIMAL = '^[0-9]{1,9}([.][0-9]{1,6})?$';
const USD = new RegExp(USD_DECIMAL);

export const MICROS_PER_USD = 1_000_000;

export function isUsdDecimal(value: string): boolean {
  return USD.test(value);
}

/** `"2.5"` → 2_500_000. Throws on anything but a non-negative decimal of at most six places. */
export function parseUsd(value: string): number {
  if (!USD.test(value)) throw new Error(`"${value}" is not a USD amount such as "15.00"`);
  const [whole = '0', fraction = ''] = value.split('.');
  return Number(whole) * MICROS_PER_USD + Number(fraction.padEnd(6, '0'));
}

/** 4250 → `"0.004250"`: always six decimals, so amounts line up and never read as floats. */
export function formatUsd(micros: number): string {
  if (!Number.isSafeInteger(micros)) throw new Error(`${micros} is not an integer amount of micro-USD`);
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  return `${sign}${Math.floor(abs / MICROS_PER_USD)}.${String(abs % MICROS_PER_USD).padStart(6, '0')}`;
}

/**
 * What `tokens` cost at a price in micro-USD per million tokens, rounded up to the next
 * micro-USD: a budget may be charged a fraction of a micro-dollar too much, never too
 * little. BigInt, because tokens times price can pass 2^53.
 */
/** A provider's prices (its spec.pricing) in micro-USD per million tokens, which is micro-USD per token. */
export type Prices = { inputMicrosPerMillion: number; outputMicrosPerMillion: number };

export function tokenCostMicros(tokens: number, microsPerMillionTokens: number): number {
  if (tokens <= 0 || microsPerMillionTokens <= 0) return 0;
  const product = BigInt(Math.ceil(tokens)) * BigInt(microsPerMillionTokens);
  return Number((product + 999_999n) / 1_000_000n);
}
