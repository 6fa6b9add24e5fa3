import { describe, expect, it } from 'vitest';
import { bytes, cpuMillis, formatBytes, formatMillis, sameQuantity } from './quantity.ts';

describe('quantity units', () => {
  it('converts cpu to millicores and memory to bytes', () => {
    expect(cpuMillis('500m')).toBe(500);
    expect(cpuMillis('1.5')).toBe(1500);
    expect(cpuMillis('0.0001')).toBe(1);
    expect(bytes('512Mi')).toBe(512 * 2 ** 20);
    expect(bytes('1G')).toBe(1e9);
    expect(() => bytes('lots')).toThrow(/invalid quantity/);
  });

  it('formats back to canonical quantities', () => {
    expect(formatMillis(250)).toBe('250m');
    expect(formatMillis(2000)).toBe('2');
    expect(formatBytes(256 * 2 ** 20)).toBe('256Mi');
    expect(formatBytes(2 * 2 ** 30)).toBe('2Gi');
    expect(formatBytes(1500)).toBe('1500');
  });

  it('compares by value', () => {
    expect(sameQuantity('1', '1000m')).toBe(true);
    expect(sameQuantity('1Gi', '1024Mi')).toBe(true);
    expect(sameQuantity('1Gi', '1G')).toBe(false);
    expect(sameQuantity('x', 'x')).toBe(false);
  });
});
