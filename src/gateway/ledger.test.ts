import { describe, expect, it } from 'vitest';
import { closeOrphans, emptyLedger, exhaustion, parseLedger, recordCacheHit, reserve, roll, settle, windowUsage, type LedgerState } from './ledger.ts';

const t0 = Date.parse('2026-12-01T10:15:00Z');
const limits = { callsPerHour: 10, costPerDayMicros: 1_000 };
const req = (id: string, costMicros: number, holder = 'me') => ({ id, task: 'market-research', holder, costMicros, deadline: t0 + 60_000 });

function reserved(state: LedgerState, id: string, cost: number, now = t0): LedgerState {
  const r = reserve(state, req(id, cost), limits, now);
  if (!r.ok) throw new Error(`refused: ${r.refusal.message}`);
  return r.state;
}

describe('ledger', () => {
  it('admits calls while their worst cases fit, however many are in flight, and refuses the one that does not', () => {
    let state = emptyLedger(t0);
    for (let i = 0; i < 4; i++) state = reserved(state, `c${i}`, 250);
    const refused = reserve(state, req('c4', 1), limits, t0);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.refusal).toMatchObject({ kind: 'cost', limit: 1000, used: 1000, requested: 1, resetsAt: Date.parse('2026-12-02T00:00:00Z') });
    expect(refused.refusal.message).toContain('costPerDay 0.001000 USD');
    expect(exhaustion(refused.state, t0)).toMatchObject({ kind: 'cost' });
  });

  it('refuses every call once a budget ran out, even one that would fit, until the window resets', () => {
    let state = reserved(emptyLedger(t0), 'big', 900);
    const refused = reserve(state, req('bigger', 200), limits, t0);
    expect(refused.ok).toBe(false);
    state = settle(refused.state, 'big', { kind: 'usage', inputTokens: 1, outputTokens: 1, costMicros: 100 }, t0);
    const small = reserve(state, req('small', 1), limits, t0);
    expect(small.ok === false && small.refusal).toMatchObject({ kind: 'cost', resetsAt: Date.parse('2026-12-02T00:00:00Z') });
    expect(reserve(state, req('small', 1), limits, Date.parse('2026-12-02T00:00:01Z')).ok).toBe(true);
  });

  it('settles to the real cost, freeing what was not spent', () => {
    let state = reserved(emptyLedger(t0), 'a', 900);
    expect(reserve(state, req('b', 200), limits, t0).ok).toBe(false);
    state = settle(state, 'a', { kind: 'usage', inputTokens: 100, outputTokens: 20, costMicros: 120 }, t0);
    expect(state).toMatchObject({ calls: 1, costMicros: 120, open: {} });
    expect(state.totals).toEqual({ calls: 1, cachedCalls: 0, inputTokens: 100, outputTokens: 20, costMicros: 120 });
    expect(state.tasks['market-research']).toEqual(state.totals);
    expect(reserve(state, req('b', 800), limits, t0).ok).toBe(true);
  });

  it('charges an interrupted call its reservation and a released one nothing', () => {
    let state = reserved(reserved(emptyLedger(t0), 'cut', 300), 'never-sent', 300);
    state = settle(state, 'cut', { kind: 'interrupted' }, t0);
    state = settle(state, 'never-sent', { kind: 'released' }, t0);
    expect(state).toMatchObject({ calls: 1, costMicros: 300, open: {} });
    expect(windowUsage(state)).toEqual({ calls: 1, costMicros: 300, reservedMicros: 0 });
  });

  it('bills a call once, however often it is settled', () => {
    let state = reserved(emptyLedger(t0), 'a', 100);
    state = settle(state, 'a', { kind: 'usage', inputTokens: 1, outputTokens: 1, costMicros: 50 }, t0);
    const again = settle(state, 'a', { kind: 'interrupted' }, t0);
    expect(again).toBe(state);
  });

  it('counts calls per clock hour and cost per UTC day', () => {
    let state = emptyLedger(t0);
    for (let i = 0; i < 10; i++) {
      state = reserved(state, `c${i}`, 0);
      state = settle(state, `c${i}`, { kind: 'usage', inputTokens: 0, outputTokens: 0, costMicros: 0 }, t0);
    }
    const refused = reserve(state, req('c10', 0), limits, t0);
    expect(refused.ok === false && refused.refusal).toMatchObject({ kind: 'calls', resetsAt: Date.parse('2026-12-01T11:00:00Z') });
    const nextHour = Date.parse('2026-12-01T11:00:00Z');
    expect(reserve(refused.state, req('c10', 0), limits, nextHour).ok).toBe(true);
    expect(exhaustion(refused.state, nextHour)).toBeUndefined();
    const later = roll(state, Date.parse('2026-12-02T00:00:01Z'));
    expect(later).toMatchObject({ day: '2026-12-02', costMicros: 0, calls: 0 });
    expect(roll(later, Date.parse('2026-12-02T00:30:00Z'))).toBe(later);
  });

  it('puts a call that ends after its window closed in the totals only', () => {
    const state = reserved(emptyLedger(t0), 'late', 500);
    const settled = settle(state, 'late', { kind: 'usage', inputTokens: 5, outputTokens: 5, costMicros: 400 }, Date.parse('2026-12-02T00:00:05Z'));
    expect(settled).toMatchObject({ day: '2026-12-02', costMicros: 0, calls: 0 });
    expect(settled.totals.costMicros).toBe(400);
  });

  it('charges in full the reservations of another process, and those past their deadline', () => {
    let state = emptyLedger(t0);
    state = reserve(state, req('theirs', 200, 'crashed-operator'), limits, t0).state;
    state = reserved(state, 'mine', 100);
    state = reserve(state, { ...req('stuck', 50), deadline: t0 - 1 }, limits, t0).state;
    const closed = closeOrphans(state, 'me', t0);
    expect(Object.keys(closed.open)).toEqual(['mine']);
    expect(closed.costMicros).toBe(250);
    expect(closeOrphans(closed, 'me', t0)).toBe(closed);
  });

  it('counts a cache hit in its task and the totals, against no window, even on a spent budget', () => {
    let state = reserved(emptyLedger(t0), 'big', 900);
    state = reserve(state, req('bigger', 200), limits, t0).state;
    expect(exhaustion(state, t0)).toBeDefined();
    state = recordCacheHit(recordCacheHit(state, 'market-research', t0), 'mvp-spec', t0);
    expect(state.totals).toEqual({ calls: 0, cachedCalls: 2, inputTokens: 0, outputTokens: 0, costMicros: 0 });
    expect(state.tasks['market-research']).toEqual({ calls: 0, cachedCalls: 1, inputTokens: 0, outputTokens: 0, costMicros: 0 });
    expect(windowUsage(state)).toEqual({ calls: 1, costMicros: 0, reservedMicros: 900 });
    state = settle(state, 'big', { kind: 'usage', inputTokens: 5, outputTokens: 5, costMicros: 100 }, t0);
    expect(state.tasks['market-research']).toEqual({ calls: 1, cachedCalls: 1, inputTokens: 5, outputTokens: 5, costMicros: 100 });
  });

  it('reads a ledger stored before cache hits were counted as one with none', () => {
    const stored = settle(reserved(emptyLedger(t0), 'a', 100), 'a', { kind: 'usage', inputTokens: 1, outputTokens: 1, costMicros: 50 }, t0);
    const old = JSON.parse(JSON.stringify(stored), (key, value: unknown) => (key === 'cachedCalls' ? undefined : value)) as LedgerState;
    expect(JSON.stringify(old)).not.toContain('cachedCalls');
    const read = parseLedger(JSON.stringify(old));
    expect(read).toEqual(stored);
    expect(recordCacheHit(read, 'market-research', t0).totals.cachedCalls).toBe(1);
  });
});
