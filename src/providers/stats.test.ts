import { describe, expect, it } from 'vitest';
import { aiProviderStatusSchema } from '../api/index.ts';
import {
  decayedWeight, fromApiStats, recordSample, statsByType, statsList, toApiStats,
  type Sample, type StatsPolicy, type TaskStats,
} from './stats.ts';

const policy: StatsPolicy = { halfLifeMs: 3_600_000, sampleDecay: 0.98 };
const t0 = Date.parse('2026-03-01T12:00:00Z');
const ok = (quality: number, costMicros = 1000, latencyMs = 2000): Sample => ({ success: true, quality, latencyMs, costMicros });

function feed(stats: TaskStats | undefined, samples: readonly Sample[], start: number, everyMs = 1000): TaskStats {
  let s = stats;
  samples.forEach((sample, i) => { s = recordSample(s, sample, start + i * everyMs, policy); });
  return s!;
}

describe('recordSample', () => {
  it('starts from the first sample and counts failures as quality 0', () => {
    const first = recordSample(undefined, ok(0.8, 1200, 900), t0, policy);
    expect(first).toEqual({ samples: 1, weight: 1, successRate: 1, meanQuality: 0.8, meanQualitySquared: 0.8 * 0.8, meanLatencyMs: 900, meanCostMicros: 1200, updatedAt: t0 });
    const failed = recordSample(first, { success: false, quality: 0.9, latencyMs: 100, costMicros: 0 }, t0, policy);
    expect(failed.samples).toBe(2);
    expect(failed.weight).toBeCloseTo(1.98, 9);
    expect(failed.meanQuality).toBeCloseTo((0.8 * 0.98) / 1.98, 9);
    expect(failed.successRate).toBeCloseTo(0.98 / 1.98, 9);
  });

  it('follows a provider that gets worse, where a plain mean would not', () => {
    const good = feed(undefined, Array.from({ length: 100 }, () => ok(0.9)), t0);
    expect(good.weight).toBeLessThan(1 / (1 - policy.sampleDecay));
    expect(good.weight).toBeGreaterThan(40);
    const worse = feed(good, Array.from({ length: 50 }, () => ok(0.5)), t0 + 100_000);
    const plainMean = (100 * 0.9 + 50 * 0.5) / 150;
    expect(worse.meanQuality).toBeLessThan(plainMean - 0.1);
    const settled = feed(worse, Array.from({ length: 150 }, () => ok(0.5)), t0 + 200_000);
    expect(settled.meanQuality).toBeCloseTo(0.5, 1);
    expect(settled.samples).toBe(300);
  });

  it('lets evidence fade with time, so a sample after a long silence counts for most', () => {
    const old = feed(undefined, Array.from({ length: 30 }, () => ok(0.9)), t0);
    const later = old.updatedAt + policy.halfLifeMs;
    expect(decayedWeight(old, later, policy)).toBeCloseTo(old.weight / 2, 9);
    expect(decayedWeight(old, old.updatedAt - 10_000, policy)).toBe(old.weight);
    const afterSilence = recordSample(old, ok(0.3), old.updatedAt + 10 * policy.halfLifeMs, policy);
    expect(afterSilence.meanQuality).toBeLessThan(0.35);
    const soon = recordSample(old, ok(0.3), old.updatedAt + 1000, policy);
    expect(soon.meanQuality).toBeGreaterThan(0.85);
  });

  it('averages small costs without stalling on whole micro-dollars', () => {
    const base = feed(undefined, Array.from({ length: 100 }, () => ok(0.9, 1000)), t0);
    // Each step is (1010 - mean) / ~50 < 0.5: a mean rounded at every update would stay at 1000.
    const moved = feed(base, Array.from({ length: 300 }, () => ok(0.9, 1010)), t0 + 100_000);
    expect(moved.meanCostMicros).toBeGreaterThan(1009.9);
    const cheap = feed(undefined, Array.from({ length: 100 }, (_, i) => ok(0.9, 1 + (i % 2))), t0);
    expect(cheap.meanCostMicros).toBeCloseTo(1.5, 1);
  });

  it('refuses a cost that is not whole micro-USD, and clamps quality', () => {
    expect(() => recordSample(undefined, ok(0.9, 1.5), t0, policy)).toThrow(/micro-USD/);
    expect(() => recordSample(undefined, ok(0.9, -1), t0, policy)).toThrow(/micro-USD/);
    expect(recordSample(undefined, ok(1.7), t0, policy).meanQuality).toBe(1);
  });
});

describe('the API shape', () => {
  const stats = feed(undefined, [ok(0.91, 1234, 2500), ok(0.62, 777, 1800), { success: false, quality: 0, latencyMs: 30_000, costMicros: 0 }], t0 + 250);

  it('is a valid status whose money is a decimal string, and reads back as written', () => {
    const api = toApiStats('research', stats);
    expect(api.meanCostUsd).toMatch(/^0\.000\d{3}$/);
    expect(api.updatedAt).toBe('2026-03-01T12:00:02Z');
    const parsed = aiProviderStatusSchema.parse({ stats: [api] });
    const back = fromApiStats(parsed.stats![0]!);
    expect(toApiStats('research', back)).toEqual(api);
    expect(back.samples).toBe(3);
    expect(back.weight).toBeCloseTo(stats.weight, 6);
    expect(back.meanQuality).toBeCloseTo(stats.meanQuality, 6);
    expect(api.qualityStdDev).toBeGreaterThan(0.3);
    expect(back.meanQualitySquared).toBeCloseTo(stats.meanQualitySquared, 5);
    expect(Math.abs(back.meanCostMicros - stats.meanCostMicros)).toBeLessThanOrEqual(0.5);
  });

  it('lists task types in a fixed order, and maps a status back per type', () => {
    const byType = new Map([['review', stats], ['research', stats]] as const);
    const list = statsList(byType);
    expect(list.map((s) => s.taskType)).toEqual(['research', 'review']);
    const again = statsByType({ stats: list });
    expect([...again.keys()].sort()).toEqual(['research', 'review']);
    expect(statsList(again)).toEqual(list);
    expect(statsByType(undefined).size).toBe(0);
  });

  it('reads figures written without weight, spread or time as that many calls, spread widest, as old as can be', () => {
    const legacy = fromApiStats({ taskType: 'spec', samples: 3, successRate: 1, meanQuality: 0.8, meanLatencyMs: 900, meanCostUsd: '0.010000' });
    // Without a spread, the widest one: every score 0 or 1.
    expect(legacy).toMatchObject({ weight: 3, updatedAt: 0, meanCostMicros: 10_000, meanQualitySquared: 0.8 });
    expect(decayedWeight(legacy, t0, policy)).toBeLessThan(1e-9);
  });
});
