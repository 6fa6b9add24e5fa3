import { describe, expect, it } from 'vitest';
import { planStarts, type StartCandidate } from './scheduler.ts';

const c = (startup: string, task: string, over: Partial<StartCandidate> = {}): StartCandidate => ({
  startup, task, priority: 0, createdAt: '2026-12-01T10:00:00Z', order: 0, provider: 'openai', ...over,
});
const empty = { perStartup: new Map(), perProvider: new Map(), total: 0 };
const limits = (over: Partial<{ perStartup: number; total: number; provider: number }> = {}) => ({
  perStartup: over.perStartup ?? 4, total: over.total ?? 20, perProvider: () => over.provider ?? 100,
});

describe('planStarts', () => {
  it('starts higher priority first, then older startups, then earlier tasks', () => {
    const granted = planStarts([
      c('old', 'b', { order: 1 }), c('old', 'a', { order: 0 }),
      c('young', 'a', { createdAt: '2026-12-01T11:00:00Z' }),
      c('vip', 'a', { priority: 10, createdAt: '2026-12-01T12:00:00Z' }),
    ], empty, limits({ total: 2 }));
    expect([...granted]).toEqual(['vip/a', 'old/a']);
  });

  it('bounds each startup, each provider and the factory, counting what already runs', () => {
    const busy = { perStartup: new Map([['a', 3]]), perProvider: new Map([['anthropic', 1]]), total: 5 };
    const granted = planStarts([
      c('a', 't1'), c('a', 't2'),
      c('b', 't1', { provider: 'anthropic' }), c('b', 't2', { provider: 'anthropic', order: 1 }),
      c('b', 't3', { order: 2 }),
    ], busy, { perStartup: 4, total: 8, perProvider: (p) => (p === 'anthropic' ? 2 : 10) });
    expect([...granted].sort()).toEqual(['a/t1', 'b/t1', 'b/t3']);
  });

  it('lets a task for a free provider pass one waiting for a busy provider', () => {
    const busy = { perStartup: new Map(), perProvider: new Map([['anthropic', 2]]), total: 2 };
    const granted = planStarts([c('a', 'x', { provider: 'anthropic' }), c('a', 'y', { provider: 'openai', order: 1 })], busy,
      { perStartup: 4, total: 20, perProvider: (p) => (p === 'anthropic' ? 2 : 4) });
    expect([...granted]).toEqual(['a/y']);
  });

  it('starts nothing when the factory is full', () => {
    expect(planStarts([c('a', 'x')], { ...empty, total: 20 }, limits()).size).toBe(0);
  });
});
