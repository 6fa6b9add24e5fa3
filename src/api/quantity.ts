/**
 * Kubernetes resource quantities (`512Mi`, `500m`, `2Gi`, `1.5`), parsed the way the API
 * server parses them. Admission sums quotas with these, so the grammar is the real one
 * (k8s.io/apimachinery/pkg/api/resource), not an approximation, but for one bound: an
 * exponent has at most three digits (see MAX_EXPONENT_DIGITS).
 */
const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]{1,3})?$/;

/**
 * The API server rounds a quantity to nano units as it parses it, with big-integer powers of
 * ten as large as its exponent: "1e2147483647" kept two cores of the local API server busy
 * long after the request timed out. The CRD refuses a four-digit exponent before parsing
 * (common.ts), and so does this grammar, so the twins agree.
 */
export const MAX_EXPONENT_DIGITS = 3;

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a quantity in base units (bytes, cores), or undefined when it is not one. */
export function parseQuantity(quantity: string | number): number | undefined {
  if (typeof quantity === 'number') return Number.isFinite(quantity) ? quantity : undefined;
  const match = QUANTITY.exec(quantity);
  if (!match) return undefined;
  const [, digits = '', suffix = ''] = match;
  // An exponent is e or E and digits; E alone, and Ei, are the exa suffixes.
  const scale = /^[eE][+-]?[0-9]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix];
  return scale === undefined ? undefined : Number(digits) * scale;
}

export function isPositiveQuantity(quantity: string | number): boolean {
  if (typeof quantity === 'number') return Number.isFinite(quantity) && quantity > 0;
  // The sign and the digits decide, not the value: 1e-400 is a positive quantity (the API
  // server rounds it up to 1n) that a float rounds to 0.
  const digits = QUANTITY.exec(quantity)?.[1];
  return digits !== undefined && !digits.startsWith('-') && /[1-9]/.test(digits);
}
