import { describe, expect, it } from 'vitest';
import { formatUsd, parseUsd, tokenCostMicros } from './money.ts';

describe('money', () => {
  it('parses decimal strings into micro-USD exactly', () => {
    expect(parseUsd('15.00')).toBe(15_000_000);
    expect(parseUsd('0.1')).toBe(100_000);
    expect(parseUsd('0.000001')).toBe(1);
    expect(parseUsd('2')).toBe(2_000_000);
    expect(parseUsd('0.1') + parseUsd('0.2')).toBe(parseUsd('0.3'));
  });

  it('refuses what is not a non-negative amount of at most six decimals', () => {
    for (const bad of ['-1', '1e3', '0.0000001', 'ten', '', '1.']) expect(() => parseUsd(bad)).toThrow(/not a USD amount/);
  });

  it('formats with six decimals and round-trips', () => {
    expect(formatUsd(4250)).toBe('0.004250');
    expect(formatUsd(15_000_000)).toBe('15.000000');
    expect(formatUsd(0)).toBe('0.000000');
    expect(parseUsd(formatUsd(123_456_789))).toBe(123_456_789);
    expect(() => formatUsd(0.5)).toThrow();
  });

  it('charges tokens at per-million prices, rounding up to the micro-dollar', () => {
    // $2.50 per million tokens is 2.5 micro-USD per token.
    expect(tokenCostMicros(1000, parseUsd('2.50'))).toBe(2500);
    expect(tokenCostMicros(1, parseUsd('2.50'))).toBe(3);
    expect(tokenCostMicros(0, parseUsd('2.50'))).toBe(0);
    expect(tokenCostMicros(1000, 0)).toBe(0);
    // Past 2^53 in the product, still exact.
    expect(tokenCostMicros(10_000_000_000, parseUsd('10000'))).toBe(100_000_000_000_000);
  });
});
