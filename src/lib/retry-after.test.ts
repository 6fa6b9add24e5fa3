import { describe, expect, it } from 'vitest';
import { retryAfterMs } from './retry-after.ts';

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates, with a fallback', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Wed, 25 Nov 2026 12:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Wed, 25 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(undefined, now, 1234)).toBe(1234);
    expect(retryAfterMs('soon', now, 1234)).toBe(1234);
    expect(retryAfterMs('0.25', now)).toBe(250);
  });
});
