import { describe, expect, it } from 'vitest';
import { isPositiveQuantity, parseQuantity } from './quantity.ts';

describe('parseQuantity', () => {
  it.each([
    ['512Mi', 512 * 2 ** 20],
    ['2Gi', 2 * 2 ** 30],
    ['500m', 0.5],
    ['1.5', 1.5],
    ['1k', 1000],
    ['1e3', 1000],
    ['.5', 0.5],
    ['100n', 1e-7],
    ['2E', 2e18],
    ['1Ei', 2 ** 60],
    ['1.5Ei', 1.5 * 2 ** 60],
    ['1e-3', 0.001],
    ['1E+3', 1000],
    [2, 2],
  ])('%s is %d', (input, value) => {
    expect(parseQuantity(input)).toBeCloseTo(value, 12);
  });

  it.each(['', 'Mi', '1MB', '1 Gi', 'abc', '1..2', '1Gib', '1e', '1Eii', '1e1000', '1e-2147483648'])('refuses %j', (input) => {
    expect(parseQuantity(input)).toBeUndefined();
  });
});

describe('isPositiveQuantity', () => {
  it('accepts positive quantities and refuses zero, negatives and garbage', () => {
    expect(isPositiveQuantity('1m')).toBe(true);
    expect(isPositiveQuantity(3)).toBe(true);
    expect(isPositiveQuantity('0')).toBe(false);
    expect(isPositiveQuantity('0Gi')).toBe(false);
    expect(isPositiveQuantity('-1Gi')).toBe(false);
    expect(isPositiveQuantity('lots')).toBe(false);
    expect(isPositiveQuantity('1Ei')).toBe(true);
    expect(isPositiveQuantity('-0')).toBe(false);
    expect(isPositiveQuantity('0e5')).toBe(false);
  });

  it('decides by the digits where a float would round: 1e-400 is positive, as the API server says', () => {
    expect(isPositiveQuantity('1e-400')).toBe(true);
    expect(isPositiveQuantity('0.0000000000000000000000000001')).toBe(true);
  });
});
