import { describe, expect, it } from 'vitest';
import { providerStatus } from './provider-controller.ts';

const now = new Date('2026-11-25T10:00:00Z');
const later = new Date('2026-11-25T11:00:00Z');
const missing = { ready: false, reason: 'SecretNotFound', message: 'Secret sf/k does not exist' };

describe('providerStatus', () => {
  it('returns the very same status when nothing changed, so a recheck writes nothing', () => {
    const first = providerStatus(undefined, 1, missing, now);
    expect(providerStatus(first, 1, missing, later)).toBe(first);
  });

  it('moves lastTransitionTime only when Ready flips, and keeps the learning stats', () => {
    const stats = [{ taskType: 'research' as const, samples: 3, successRate: 1, meanQuality: 0.8, meanLatencyMs: 900, meanCostUsd: '0.010000' }];
    const first = { ...providerStatus(undefined, 1, missing, now), stats };
    const resolved = providerStatus(first, 1, { ready: true, reason: 'KeyResolved', message: 'found' }, later);
    expect(resolved.conditions?.[0]).toMatchObject({ status: 'True', reason: 'KeyResolved', lastTransitionTime: '2026-11-25T11:00:00Z' });
    expect(resolved.stats).toBe(stats);
  });

  it('is Stalled while not Ready: only a change elsewhere (the key Secret, the spec) helps', () => {
    const stalled = (s: ReturnType<typeof providerStatus>) => s.conditions?.find((c) => c.type === 'Stalled');
    const first = providerStatus(undefined, 1, missing, now);
    expect(stalled(first)).toMatchObject({ status: 'True', reason: 'SecretNotFound', observedGeneration: 1 });
    expect(stalled(providerStatus(first, 1, { ready: true, reason: 'KeyResolved', message: 'found' }, later))).toMatchObject({ status: 'False', reason: 'KeyResolved' });
  });
});
