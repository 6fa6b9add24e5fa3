import { describe, expect, it } from 'vitest';
import type { Startup } from '../api/index.ts';
import {
  reportWindow,
  DAILY_BUCKETS, HOURLY_BUCKETS, MAX_STATE_BYTES, MAX_VALUES_PER_BUCKET, SETTLE_MS, buildReport, emptyAnalytics, fitToSize,
  observeStartup, parseAnalytics, prune, serializeAnalytics, settlesAt, type AnalyticsState, type Dimension, type Granularity,
} from './model.ts';

type Task = NonNullable<NonNullable<Startup['status']>['tasks']>[number];

const T0 = Date.parse('2026-03-10T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const at = (ms: number) => new Date(ms);
/** Long enough after `completedAt` that every completion has settled. */
const later = (ms: number) => at(ms + SETTLE_MS);

function task(name: string, o: Partial<Task> & { start: number; end?: number }): Task {
  const { start, end, ...rest } = o;
  return { name, type: 'research', phase: 'Succeeded', provider: 'offline', startedAt: iso(start), ...(end !== undefined ? { finishedAt: iso(end) } : {}), ...rest };
}

function startup(o: {
  uid?: string; industry?: string; category?: string; template?: string; phase?: 'Running' | 'Succeeded' | 'Failed';
  startedAt?: number; completedAt?: number; costUsd?: string; tokens?: [number, number]; tasks?: Task[];
}): Startup {
  const startedAt = o.startedAt ?? T0;
  return {
    apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup',
    metadata: { name: o.uid ?? 'a', uid: o.uid ?? 'uid-a' },
    spec: { displayName: 'A', template: o.template ?? 'reactnext', ...(o.industry ? { industry: o.industry } : {}), ...(o.category ? { category: o.category } : {}) } as Startup['spec'],
    status: {
      phase: o.phase ?? 'Succeeded',
      startedAt: iso(startedAt),
      ...(o.completedAt !== undefined ? { completedAt: iso(o.completedAt) } : {}),
      usage: { totalCostUsd: o.costUsd ?? '0.000000', totalInputTokens: o.tokens?.[0] ?? 0, totalOutputTokens: o.tokens?.[1] ?? 0 },
      tasks: o.tasks ?? [],
    },
  };
}

const report = (state: AnalyticsState, by: Dimension, granularity: Granularity = 'hour', since = T0 - 3_600_000, until = T0 + 3 * 3_600_000) =>
  buildReport(state, { by, granularity, since: at(since), until: at(until) });
const group = (state: AnalyticsState, by: Dimension, key: string, granularity: Granularity = 'hour') =>
  report(state, by, granularity).groups.find((g) => g.key === key);

const finished = () => startup({
  industry: 'fintech', category: 'payments', completedAt: T0 + 83_000, costUsd: '0.004250', tokens: [1200, 3400],
  tasks: [
    task('market-research', { start: T0, end: T0 + 20_000, usage: { calls: 1, inputTokens: 100, outputTokens: 300, costUsd: '0.001000' }, quality: 0.8 }),
    task('founder-analysis', { start: T0, end: T0 + 30_000, provider: 'anthropic', usage: { calls: 1, inputTokens: 50, outputTokens: 60, costUsd: '0.000500' }, quality: 0.6 }),
    task('review', { start: T0 + 30_000, end: T0 + 83_000, quality: 0.9 }),
  ],
});

describe('observeStartup', () => {
  it('counts a finished Startup per industry, category and template, and its tasks per provider', () => {
    const state = observeStartup(emptyAnalytics(), finished(), later(T0 + 83_000));
    for (const [by, key] of [['industry', 'fintech'], ['category', 'payments'], ['template', 'reactnext']] as const) {
      expect(group(state, by, key), by).toEqual({
        key, count: 1, succeeded: 1, failed: 0, successRate: 1, meanSeconds: 83, p95Seconds: expect.closeTo(83, -1),
        meanCostUsd: '0.004250', totalCostUsd: '0.004250', inputTokens: 1200, outputTokens: 3400, meanQuality: null,
      });
    }
    expect(group(state, 'provider', 'offline')).toMatchObject({ count: 2, succeeded: 2, meanSeconds: (20 + 53) / 2, totalCostUsd: '0.001000', meanCostUsd: '0.000500', inputTokens: 100, meanQuality: expect.closeTo(0.85, 9) });
    expect(group(state, 'provider', 'anthropic')).toMatchObject({ count: 1, meanSeconds: 30, totalCostUsd: '0.000500', meanQuality: 0.6 });
    // The same figures in the daily buckets.
    expect(group(state, 'industry', 'fintech', 'day')).toEqual(group(state, 'industry', 'fintech', 'hour'));
    expect(report(state, 'provider').unit).toBe('tasks');
    expect(report(state, 'industry').unit).toBe('startups');
  });

  it('counts each completion once, across a restart (serialize, parse), and says so by returning the same state', () => {
    const once = observeStartup(emptyAnalytics(), finished(), later(T0 + 83_000));
    expect(observeStartup(once, finished(), later(T0 + 90_000))).toBe(once);
    const restarted = parseAnalytics(serializeAnalytics(once));
    expect(restarted).toEqual(once);
    const again = observeStartup(restarted, finished(), later(T0 + 120_000));
    expect(again).toBe(restarted);
    expect(group(again, 'industry', 'fintech')?.count).toBe(1);
    expect(group(again, 'provider', 'offline')?.count).toBe(2);
    // Nothing of it can be counted any more: one marker instead of its task names.
    expect(once.recorded).toEqual({ 'uid-a': true });
  });

  it('counts tasks as they finish, before the Startup does, and each of them once', () => {
    const running = (tasks: Task[]) => startup({ phase: 'Running', tasks });
    const first = task('market-research', { start: T0, end: T0 + 20_000 });
    const second = task('founder-analysis', { start: T0, end: T0 + 30_000 });
    const pending = task('business-model', { start: T0 + 30_000, phase: 'Running' });
    const s1 = observeStartup(emptyAnalytics(), running([first, pending]), later(T0 + 20_000));
    expect(group(s1, 'provider', 'offline')?.count).toBe(1);
    expect(group(s1, 'industry', '(none)')).toBeUndefined();
    expect(s1.recorded['uid-a']).toEqual(['market-research']);
    const s2 = observeStartup(s1, running([first, second, pending]), later(T0 + 30_000));
    expect(group(s2, 'provider', 'offline')?.count).toBe(2);
    expect(s2.recorded['uid-a']).toEqual(['market-research', 'founder-analysis']);
    expect(observeStartup(s2, running([first, second, pending]), later(T0 + 31_000))).toBe(s2);
  });

  it('waits SETTLE_MS after a completion, when the ledger\'s usage has reached status, and says when that is', () => {
    const s = finished();
    const end = T0 + 83_000;
    const early = observeStartup(emptyAnalytics(), s, at(end + 1_000));
    // The tasks that finished long enough ago are counted; the review and the Startup wait.
    expect(group(early, 'provider', 'offline')?.count).toBe(1);
    expect(group(early, 'industry', 'fintech')).toBeUndefined();
    expect(settlesAt(s, at(end + 1_000))).toEqual(at(end + SETTLE_MS));
    expect(settlesAt(s, at(end + SETTLE_MS))).toBeUndefined();
    const settled = observeStartup(early, s, at(end + SETTLE_MS));
    expect(group(settled, 'industry', 'fintech')?.count).toBe(1);
    expect(group(settled, 'provider', 'offline')?.count).toBe(2);
  });

  it('counts a failure, whose time is not a creation time, and a Startup with no industry or category under (none)', () => {
    const failed = startup({
      phase: 'Failed', completedAt: T0 + 10_000, costUsd: '0.000100',
      tasks: [task('market-research', { start: T0, end: T0 + 10_000, phase: 'Failed' }), task('review', { start: T0, phase: 'Skipped' })],
    });
    const state = observeStartup(emptyAnalytics(), failed, later(T0 + 10_000));
    expect(group(state, 'industry', '(none)')).toMatchObject({ count: 1, succeeded: 0, failed: 1, successRate: 0, meanSeconds: null, p95Seconds: null, meanCostUsd: '0.000100' });
    expect(group(state, 'category', '(none)')?.count).toBe(1);
    expect(group(state, 'provider', 'offline')).toMatchObject({ count: 1, failed: 1, meanSeconds: null });
    expect(state.recorded['uid-a']).toBe(true);
  });

  it('ignores a Startup that has not finished, has no start, or finished before the daily buckets begin', () => {
    const none = emptyAnalytics();
    expect(observeStartup(none, startup({ phase: 'Running' }), at(T0 + 60_000))).toBe(none);
    const noStart = startup({ completedAt: T0 });
    delete noStart.status!.startedAt;
    expect(observeStartup(none, noStart, later(T0))).toBe(none);
    const ancient = startup({ startedAt: T0 - DAILY_BUCKETS * 86_400_000 - 10_000, completedAt: T0 - DAILY_BUCKETS * 86_400_000 });
    expect(observeStartup(none, ancient, at(T0))).toBe(none);
  });

  it('counts a completion older than the hourly buckets in the daily ones only', () => {
    const done = T0 - (HOURLY_BUCKETS + 2) * 3_600_000;
    const state = observeStartup(emptyAnalytics(), startup({ startedAt: done - 60_000, completedAt: done, industry: 'edtech' }), at(T0));
    expect(state.hours).toEqual([]);
    expect(buildReport(state, { by: 'industry', granularity: 'day', since: at(T0 - 7 * 86_400_000), until: at(T0) }).groups).toMatchObject([{ key: 'edtech', count: 1 }]);
  });

  it('folds values past MAX_VALUES_PER_BUCKET into (other), so a bucket stays bounded', () => {
    let state = emptyAnalytics();
    for (let i = 0; i < MAX_VALUES_PER_BUCKET + 5; i++) {
      state = observeStartup(state, startup({ uid: `u${i}`, industry: `industry-${String(i).padStart(2, '0')}`, completedAt: T0 + 1_000 }), later(T0 + 1_000));
    }
    const groups = report(state, 'industry').groups;
    expect(groups).toHaveLength(MAX_VALUES_PER_BUCKET + 1);
    expect(groups[0]).toMatchObject({ key: '(other)', count: 5 });
    // A value already in the bucket keeps its own group.
    state = observeStartup(state, startup({ uid: 'again', industry: 'industry-00', completedAt: T0 + 2_000 }), later(T0 + 2_000));
    expect(group(state, 'industry', 'industry-00')?.count).toBe(2);
  });

  it('keeps an industry named like an Object property as plain data', () => {
    const state = observeStartup(emptyAnalytics(), startup({ industry: '__proto__', category: 'constructor', completedAt: T0 + 1_000 }), later(T0 + 1_000));
    expect(group(state, 'industry', '__proto__')?.count).toBe(1);
    expect(group(state, 'category', 'constructor')?.count).toBe(1);
    expect(Object.getPrototypeOf(state.hours[0]!.by.industry)).toBe(Object.prototype);
  });
});

describe('prune', () => {
  it('drops the keys of Startups no longer live and the buckets past their retention, else returns the same state', () => {
    const state = observeStartup(observeStartup(emptyAnalytics(), startup({ uid: 'x', completedAt: T0 }), later(T0)), startup({ uid: 'y', completedAt: T0 }), later(T0));
    expect(prune(state, new Set(['x', 'y']), later(T0))).toBe(state);
    const pruned = prune(state, new Set(['y']), later(T0));
    expect(Object.keys(pruned.recorded)).toEqual(['y']);
    // The figures stay when their Startup goes.
    expect(group(pruned, 'template', 'reactnext')?.count).toBe(2);

    const hoursLater = prune(pruned, new Set(['y']), at(T0 + HOURLY_BUCKETS * 3_600_000));
    expect(hoursLater.hours).toEqual([]);
    expect(hoursLater.days).toHaveLength(1);
    const daysLater = prune(pruned, new Set(['y']), at(T0 + DAILY_BUCKETS * 86_400_000));
    expect(daysLater.days).toEqual([]);
  });
});

describe('buildReport', () => {
  it('has one entry per bucket of the window, oldest first, empty ones included, summing to the window\'s groups', () => {
    let state = emptyAnalytics();
    const hour = 3_600_000;
    // Two providers sharing tasks differently in two hours, nothing in the hour between.
    const tasks = [
      task('a', { start: T0, end: T0 + 10_000 }), task('b', { start: T0, end: T0 + 10_000, provider: 'openai' }), task('c', { start: T0, end: T0 + 10_000, provider: 'openai' }),
      task('d', { start: T0 + 2 * hour, end: T0 + 2 * hour + 10_000 }),
    ];
    state = observeStartup(state, startup({ phase: 'Running', tasks }), at(T0 + 3 * hour));
    const r = report(state, 'provider', 'hour', T0 - 30 * 60_000, T0 + 3 * hour - 1);
    expect(r.series.map((e) => e.start)).toEqual(['2026-03-10T11:00:00Z', '2026-03-10T12:00:00Z', '2026-03-10T13:00:00Z', '2026-03-10T14:00:00Z']);
    expect(r.series.map((e) => e.groups.map((g) => [g.key, g.count]))).toEqual([[], [['openai', 2], ['offline', 1]], [], [['offline', 1]]]);
    expect(r.groups.map((g) => [g.key, g.count])).toEqual([['offline', 2], ['openai', 2]]);
    expect(r).toMatchObject({ by: 'provider', granularity: 'hour', since: iso(T0 - 30 * 60_000), until: iso(T0 + 3 * hour - 1) });
  });

  it('clamps a window longer than the retention, and has no entries when it is empty', () => {
    const state = emptyAnalytics();
    const long = buildReport(state, { by: 'industry', granularity: 'hour', since: at(0), until: at(T0) });
    expect(long.series).toHaveLength(HOURLY_BUCKETS);
    expect(buildReport(state, { by: 'industry', granularity: 'day', since: at(T0), until: at(T0 - 1) }).series).toEqual([]);
    expect(() => buildReport(state, { by: 'industry', granularity: 'day', since: new Date(Number.NaN), until: at(T0) })).toThrow(RangeError);
  });

  it('reads p95 within 10% of the truth, from histograms merged across buckets', () => {
    let state = emptyAnalytics();
    // 1..200 s across 100 hours' worth of daily buckets: 95th percentile (nearest rank) is 190 s.
    for (let i = 1; i <= 200; i++) {
      const end = T0 - (i % 5) * 86_400_000;
      state = observeStartup(state, startup({ uid: `u${i}`, startedAt: end - i * 1000, completedAt: end }), later(T0));
    }
    const g = buildReport(state, { by: 'template', granularity: 'day', since: at(T0 - 6 * 86_400_000), until: at(T0 + 1) }).groups[0]!;
    expect(g.count).toBe(200);
    expect(g.meanSeconds).toBeCloseTo(100.5, 6);
    expect(Math.abs(g.p95Seconds! - 190) / 190).toBeLessThan(0.1);
  });
});

describe('parseAnalytics', () => {
  it('gives an empty state for a missing, corrupt or foreign value, never throwing', () => {
    for (const data of [undefined, '', '{', 'null', '[]', '{"version":2,"hours":[],"days":[],"recorded":{}}', '{"version":1,"hours":[{"start":"x","by":{}}],"days":[],"recorded":{}}']) {
      expect(parseAnalytics(data), String(data)).toEqual(emptyAnalytics());
    }
  });
});

/** `count` startups finishing evenly over the daily retention, their industries, categories and templates drawn from small sets, each with 12 tasks on 3 providers. */
function factoryHistory(count: number, now: number, industry = (i: number) => `industry-${i % 12}`): AnalyticsState {
  let state = emptyAnalytics();
  const span = (DAILY_BUCKETS - 1) * 86_400_000;
  for (let i = 0; i < count; i++) {
    const end = now - Math.floor((span * i) / count);
    const tasks = Array.from({ length: 12 }, (_, j) => task(`t${j}`, {
      start: end - 600_000, end: end - 600_000 + 5_000 + ((i * 7 + j * 13) % 300) * 1000, provider: ['openai', 'anthropic', 'perplexity'][j % 3]!,
      usage: { calls: 1, inputTokens: 1000 + j, outputTokens: 2000 + i, costUsd: '0.012345' }, quality: 0.5 + (j % 5) / 10,
    }));
    const s = startup({
      uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, industry: industry(i), category: `category-${i % 30}`, template: ['reactnext', 'vuenuxt', 'fluttermobile'][i % 3],
      startedAt: end - 700_000 - (i % 50) * 10_000, completedAt: end, costUsd: '0.148140', tokens: [12_066, 24_000 + 12 * i], tasks,
    });
    state = observeStartup(state, s, at(now + SETTLE_MS));
  }
  return state;
}

describe('size', () => {
  it('stays well under a ConfigMap for 1000 startups over 90 days, live ones\' keys included', () => {
    const state = factoryHistory(1000, T0);
    const bytes = serializeAnalytics(state).length;
    expect(bytes).toBeLessThan(MAX_STATE_BYTES / 2);
    expect(fitToSize(state)).toBe(state);
  });

  it('fitToSize drops the oldest days first when the state would not fit, counting UTF-8 bytes', () => {
    const state = factoryHistory(200, T0, (i) => `金融科技-${i % 12}`);
    const bytes = (s: AnalyticsState) => Buffer.byteLength(serializeAnalytics(s));
    const limit = Math.floor(bytes(state) * 0.8);
    const fitted = fitToSize(state, limit);
    expect(bytes(fitted)).toBeLessThanOrEqual(limit);
    expect(fitted.days.length).toBeLessThan(state.days.length);
    expect(fitted.days.at(-1)).toEqual(state.days.at(-1));
    expect(fitted.hours).toEqual(state.hours);
    expect(fitted.recorded).toEqual(state.recorded);
  });
});

describe('reportWindow', () => {
  const now = new Date('2026-12-02T12:00:00Z');

  it('reads hours as hourly figures and days as daily ones, up to now', () => {
    expect(reportWindow('48h', now)).toEqual({ ok: true, granularity: 'hour', since: new Date('2026-11-30T12:00:00Z'), until: now });
    expect(reportWindow('7d', now)).toEqual({ ok: true, granularity: 'day', since: new Date('2026-11-25T12:00:00Z'), until: now });
  });

  it('refuses what the buckets do not keep, or no window at all', () => {
    for (const bad of ['49h', '91d', '0d', '3w', '7', 'd']) expect(reportWindow(bad, now), bad).toMatchObject({ ok: false, error: expect.stringMatching(/must be 1h to 48h/) });
  });
});
