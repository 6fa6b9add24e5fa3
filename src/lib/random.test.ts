import { describe, expect, it } from 'vitest';
import { beta, gamma, mulberry32, normal, type Rng } from './random.ts';

function moments(draw: () => number, n = 40_000): { mean: number; variance: number } {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    sum += x;
    squares += x * x;
  }
  const mean = sum / n;
  return { mean, variance: squares / n - mean * mean };
}

describe('mulberry32', () => {
  it('repeats its sequence for a seed and differs between seeds, within [0, 1)', () => {
    const take = (rng: Rng) => Array.from({ length: 1000 }, rng);
    const a = take(mulberry32(42));
    expect(take(mulberry32(42))).toEqual(a);
    expect(take(mulberry32(43))).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(moments(mulberry32(7)).mean).toBeCloseTo(0.5, 2);
  });
});

describe('distributions', () => {
  it('draws standard normals', () => {
    const rng = mulberry32(1);
    const m = moments(() => normal(rng));
    expect(m.mean).toBeCloseTo(0, 1);
    expect(m.variance).toBeCloseTo(1, 1);
  });

  it.each([0.3, 1, 2.5, 40])('draws Gamma(%s) with mean and variance equal to its shape', (shape) => {
    const rng = mulberry32(2);
    const m = moments(() => gamma(rng, shape));
    expect(Math.abs(m.mean - shape) / shape).toBeLessThan(0.03);
    expect(Math.abs(m.variance - shape) / shape).toBeLessThan(0.08);
  });

  it.each([[1.8, 0.2], [30, 4], [0.5, 0.5]])('draws Beta(%s, %s) with its mean and variance', (a, b) => {
    const rng = mulberry32(3);
    const m = moments(() => beta(rng, a, b));
    expect(m.mean).toBeCloseTo(a / (a + b), 2);
    expect(m.variance).toBeCloseTo((a * b) / ((a + b) ** 2 * (a + b + 1)), 3);
  });

  it('refuses a shape that is not positive', () => {
    expect(() => gamma(mulberry32(4), 0)).toThrow(/positive/);
  });
});
