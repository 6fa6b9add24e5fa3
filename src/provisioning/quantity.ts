import { parseQuantity } from '../api/index.ts';

/**
 * Integer units for quota arithmetic (sums against capacity, fractions for LimitRange
 * defaults), and the formatting back to quantities.
 */
function value(quantity: string | number): number {
  const parsed = parseQuantity(quantity);
  if (parsed === undefined) throw new Error(`invalid quantity "${quantity}"`);
  return parsed;
}

/** CPU in whole millicores, rounded up as the API server rounds sub-milli values. */
export function cpuMillis(quantity: string | number): number {
  return Math.ceil(Math.round(value(quantity) * 1e6) / 1e3);
}

/** Memory or storage in whole bytes, rounded up. */
export function bytes(quantity: string | number): number {
  return Math.ceil(value(quantity));
}

export function formatMillis(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** The largest binary suffix that represents the value exactly (the API server's own choice for such values). */
export function formatBytes(amount: number): string {
  for (const [suffix, unit] of [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (amount >= unit && amount % unit === 0) return `${amount / unit}${suffix}`;
  }
  return String(amount);
}

/** Whether two quantities denote the same amount ("1" and "1000m", "1Gi" and "1024Mi"). */
export function sameQuantity(a: string | number, b: string | number): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  return x !== undefined && y !== undefined && Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x));
}
