import { describe, expect, it } from 'vitest';
import { microTime } from './time.ts';

describe('microTime', () => {
  it('formats with six fractional digits, as metav1.MicroTime parses', () => {
    expect(microTime(Date.parse('2026-11-25T16:57:36.123Z'))).toBe('2026-11-25T16:57:36.123000Z');
    expect(microTime(0)).toBe('1970-01-01T00:00:00.000000Z');
  });
});
