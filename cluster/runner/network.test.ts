import { describe, expect, it } from 'vitest';
import { podAddress } from './network.ts';

describe('podAddress', () => {
  it('gives a pod the same loopback address every time, outside the host\'s 127.0.0.0/16', () => {
    const address = podAddress('8d6f0c1e-uid', new Set());
    expect(podAddress('8d6f0c1e-uid', new Set())).toBe(address);
    expect(address).toMatch(/^127\.([1-9]\d?|1\d\d|2[0-4]\d|25[0-4])\.\d{1,3}\.\d{1,3}$/);
    const last = Number(address.split('.')[3]);
    expect(last).toBeGreaterThanOrEqual(1);
    expect(last).toBeLessThanOrEqual(254);
  });

  it('takes the next free address when its own is taken', () => {
    const first = podAddress('uid-a', new Set());
    const second = podAddress('uid-a', new Set([first]));
    expect(second).not.toBe(first);
    expect(podAddress('uid-a', new Set([first, second]))).not.toBe(second);
  });

  it('tells a thousand pods apart', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 1000; i++) taken.add(podAddress(`uid-${i}`, taken));
    expect(taken.size).toBe(1000);
  });
});
