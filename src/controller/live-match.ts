import { sameQuantity } from '../provisioning/quantity.ts';

/**
 * Whether a live object already has every field we would apply, with our values: the
 * test that lets a reconcile skip a server-side apply that would change nothing. Fields
 * we do not set (defaults, other managers' labels, status) are ignored; lists must match
 * element for element, as they do in our applied configuration. Quantities compare by
 * value because the API server rewrites them in canonical form ("1000m" comes back "1").
 */
export function coversDesired(live: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => coversDesired(live[i], d));
  }
  if (desired !== null && typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
    const fields = live as Record<string, unknown>;
    return Object.entries(desired).every(([key, value]) => value === undefined || coversDesired(fields[key], value));
  }
  if (typeof desired === 'string' && typeof live === 'string' && desired !== live) return sameQuantity(desired, live);
  return live === desired;
}
