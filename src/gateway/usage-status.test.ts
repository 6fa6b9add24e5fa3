import { describe, expect, it } from 'vitest';
import type { Condition, StartupStatus } from '../api/index.ts';
import { ConditionType, getCondition } from '../api/conditions.ts';
import { emptyLedger, recordCacheHit, reserve, settle, type LedgerState, type Limits } from './ledger.ts';
import { usageStatus } from './usage-status.ts';

const t0 = Date.parse('2026-12-01T10:15:00Z');
const limits: Limits = { callsPerHour: 3, costPerDayMicros: 10_000 };
const req = (id: string, costMicros: number) => ({ id, task: 'market-research', holder: 'operator-a', costMicros, deadline: t0 + 120_000 });

function admitted(state: LedgerState, id: string, costMicros: number, now = t0): LedgerState {
  const r = reserve(state, req(id, costMicros), limits, now);
  if (!r.ok) throw new Error(`refused: ${r.refusal.message}`);
  return r.state;
}
function refused(state: LedgerState, id: string, costMicros: number, now = t0): LedgerState {
  const r = reserve(state, req(id, costMicros), limits, now);
  if (r.ok) throw new Error('expected a refusal');
  return r.state;
}
const settled = (state: LedgerState, id: string, costMicros: number, now = t0) =>
  settle(state, id, { kind: 'usage', inputTokens: 1000, outputTokens: 250, costMicros }, now);

function budget(status: StartupStatus): Condition {
  const c = getCondition(status.conditions, ConditionType.BudgetExceeded);
  if (!c) throw new Error('no BudgetExceeded condition');
  return c;
}

/** Two settled calls (1000 + 250 micro-USD) and one in flight holding 400. */
function busyLedger(): LedgerState {
  let state = admitted(emptyLedger(t0), 'c1', 2_000);
  state = settled(state, 'c1', 1_000);
  state = admitted(state, 'c2', 2_000);
  state = settled(state, 'c2', 250);
  return admitted(state, 'c3', 400);
}

describe('usageStatus', () => {
  it('writes no usage for a Startup that never made a call, returning the same object', () => {
    const current: StartupStatus = { phase: 'Running', namespace: 'startup-acme' };
    expect(usageStatus(current, 1, emptyLedger(t0), t0)).toBe(current);
    const none = usageStatus(undefined, 1, emptyLedger(t0), t0);
    expect(none.usage).toBeUndefined();
    expect(none.conditions).toBeUndefined();
  });

  it('reports usage as decimal-string amounts, counting calls in flight this hour', () => {
    const status = usageStatus({ phase: 'Running' }, 2, busyLedger(), t0);
    expect(status.usage).toEqual({
      hourStartedAt: '2026-12-01T10:00:00Z',
      callsThisHour: 3,
      day: '2026-12-01',
      costTodayUsd: '0.001250',
      reservedUsd: '0.000400',
      totalCalls: 2,
      totalCachedCalls: 0,
      totalInputTokens: 2000,
      totalOutputTokens: 500,
      totalCostUsd: '0.001250',
    });
    expect(status.phase).toBe('Running');
    expect(budget(status)).toMatchObject({ status: 'False', reason: 'WithinBudget', observedGeneration: 2 });
  });

  it('reports a Startup with only a call in flight', () => {
    const status = usageStatus(undefined, 1, admitted(emptyLedger(t0), 'first', 700), t0);
    expect(status.usage).toMatchObject({ callsThisHour: 1, totalCalls: 0, costTodayUsd: '0.000000', reservedUsd: '0.000700', totalCostUsd: '0.000000' });
  });

  it('reports a Startup whose every call was a cache hit, at no cost and against no window', () => {
    const status = usageStatus(undefined, 1, recordCacheHit(recordCacheHit(emptyLedger(t0), 'market-research', t0), 'mvp-spec', t0), t0);
    expect(status.usage).toMatchObject({ totalCalls: 0, totalCachedCalls: 2, callsThisHour: 0, costTodayUsd: '0.000000', totalCostUsd: '0.000000' });
    expect(budget(status)).toMatchObject({ status: 'False', reason: 'WithinBudget' });
  });

  it('sets BudgetExceeded True with CallsPerHourExceeded and when the hour resets', () => {
    const state = refused(busyLedger(), 'c4', 1);
    const c = budget(usageStatus(undefined, 5, state, t0));
    expect(c).toMatchObject({ status: 'True', reason: 'CallsPerHourExceeded', observedGeneration: 5, lastTransitionTime: '2026-12-01T10:15:00Z' });
    expect(c.message).toContain('callsPerHour 3');
    expect(c.message).toContain('resets at 2026-12-01T11:00:00Z');
  });

  it('sets BudgetExceeded True with CostPerDayExceeded and when the UTC day resets', () => {
    const state = refused(settled(admitted(emptyLedger(t0), 'big', 9_500), 'big', 9_000), 'more', 5_000);
    const c = budget(usageStatus(undefined, 1, state, t0));
    expect(c).toMatchObject({ status: 'True', reason: 'CostPerDayExceeded' });
    expect(c.message).toContain('costPerDay 0.010000 USD');
    expect(c.message).toContain('resets at 2026-12-02T00:00:00Z');
  });

  it('sets BudgetExceeded for a Startup refused on its very first call', () => {
    const state = refused(emptyLedger(t0), 'huge', 50_000);
    const status = usageStatus(undefined, 1, state, t0);
    expect(budget(status)).toMatchObject({ status: 'True', reason: 'CostPerDayExceeded' });
    expect(status.usage).toMatchObject({ totalCalls: 0, callsThisHour: 0 });
  });

  it('turns BudgetExceeded False WithinBudget once the window has passed, starting the counters again', () => {
    let state = settled(admitted(emptyLedger(t0), 'c1', 100), 'c1', 100);
    state = settled(admitted(state, 'c2', 100), 'c2', 100);
    state = settled(admitted(state, 'c3', 100), 'c3', 100);
    state = refused(state, 'c4', 100);
    const exceeded = usageStatus(undefined, 1, state, t0);
    expect(budget(exceeded).status).toBe('True');
    const nextHour = Date.parse('2026-12-01T11:00:30Z');
    const recovered = usageStatus(exceeded, 1, state, nextHour);
    expect(budget(recovered)).toMatchObject({ status: 'False', reason: 'WithinBudget', lastTransitionTime: '2026-12-01T11:00:30Z' });
    expect(recovered.usage).toMatchObject({ hourStartedAt: '2026-12-01T11:00:00Z', callsThisHour: 0, totalCalls: 3, costTodayUsd: '0.000300' });
    const nextDay = Date.parse('2026-12-02T00:00:01Z');
    expect(usageStatus(recovered, 1, state, nextDay).usage).toMatchObject({ day: '2026-12-02', costTodayUsd: '0.000000', totalCostUsd: '0.000300' });
  });

  it('returns the very same object when nothing changed', () => {
    for (const state of [busyLedger(), refused(busyLedger(), 'c4', 1)]) {
      const first = usageStatus({ phase: 'Running' }, 1, state, t0);
      expect(usageStatus(first, 1, state, t0 + 1_000)).toBe(first);
    }
  });

  it('keeps lastTransitionTime while the budget stays within bounds and the usage moves', () => {
    const first = usageStatus(undefined, 1, busyLedger(), t0);
    const more = settled(busyLedger(), 'c3', 300, t0 + 60_000);
    const second = usageStatus(first, 1, more, t0 + 60_000);
    expect(second).not.toBe(first);
    expect(second.usage?.costTodayUsd).toBe('0.001550');
    expect(budget(second).lastTransitionTime).toBe(budget(first).lastTransitionTime);
  });
});
