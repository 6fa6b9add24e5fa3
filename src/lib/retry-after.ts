/**
 * `Retry-After` as delta-seconds (whole or, as some AI providers send, fractional) or an
 * HTTP date, in ms from `now`; `fallbackMs` when absent or unparsable.
 */
export function retryAfterMs(header: string | null | undefined, now: number, fallbackMs = 1000): number {
  if (!header) return fallbackMs;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? fallbackMs : Math.max(0, at - now);
}
