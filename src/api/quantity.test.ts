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
    [2, 2],
  ])('%s is %d', (input, value) => {
    expect(parseQuantity(input)).toBeCloseTo(value, 12);
  });

  it.each(['', 'Mi', '1MB', '1 Gi', 'abc', '1..2', '1Gib'])('refuses %j', (input) => {
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
  });
});
