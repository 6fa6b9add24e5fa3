import { describe, expect, it } from 'vitest';
import {
  MAX_SPARES, SPARE_HEADROOM, SPARE_PREFIX, addSpares, fitSpare, closeOrphans, emptyLedger, exhaustion, parseLedger, recordCacheHit, reserve, roll, settle, spareFits, sparesOf, windowUsage,
  type LedgerState,
} from './ledger.ts';

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

  describe('spares', () => {
    let n = 0;
    const ids = () => `s${n++}`;
    const wide = { callsPerHour: 100, costPerDayMicros: 100_000 };

    it('are held like calls in flight, at most MAX_SPARES and a quarter of what is left, and never mark the budget spent', () => {
      const admitted = reserve(emptyLedger(t0), req('a', 100), wide, t0);
      if (!admitted.ok) throw new Error('refused');
      const state = addSpares(admitted.state, req('a', 100), 0, wide, t0, ids);
      expect(sparesOf(state, 'me')).toHaveLength(MAX_SPARES);
      expect(windowUsage(state)).toEqual({ calls: 1 + MAX_SPARES, costMicros: 0, reservedMicros: 100 + 100 * SPARE_HEADROOM * MAX_SPARES });
      // Near the end of a budget: 1000 left of the day, calls of 125, so spares of 250: a quarter holds none.
      const tight = reserved(emptyLedger(t0), 'b', 250);
      const near = addSpares(tight, req('b', 125), 0, limits, t0, ids);
      expect(near).toBe(tight);
      expect(addSpares(tight, req('b', 50), 0, limits, t0, ids).exhausted).toBeUndefined();
      expect(sparesOf(addSpares(tight, req('b', 50), 0, limits, t0, ids), 'me')).toHaveLength(1);
      // Another writer's call in flight: none, so neither can be refused for what the other's spares hold.
      const shared = reserve(admitted.state, req('theirs', 100, 'other'), wide, t0);
      expect(shared.ok && addSpares(shared.state, req('a', 100), 0, wide, t0, ids)).toBe(shared.state);
    });

    it('carry a call whose worst case and deadline fit, in the same windows, for their holder only', () => {
      const state = addSpares(emptyLedger(t0), req('a', 100), 0, wide, t0, ids);
      const [spare] = sparesOf(state, 'me') as [string];
      expect(spare.startsWith(SPARE_PREFIX)).toBe(true);
      // Room for a later, larger call: the headroom.
      expect(spareFits(state, spare, req('x', 100 * SPARE_HEADROOM), t0)).toBe(true);
      expect(spareFits(state, spare, req('x', 100 * SPARE_HEADROOM + 1), t0)).toBe(false);
      expect(spareFits(state, spare, req('x', 50, 'another'), t0)).toBe(false);
      expect(spareFits(state, spare, req('x', 50), Date.parse('2026-12-01T11:00:00Z'))).toBe(false);
      expect(spareFits(state, spare, { ...req('x', 50), deadline: t0 + 3_600_000 }, t0)).toBe(false);
    });

    it('shrink to the worst case of the call that took them, giving the headroom back, and never grow', () => {
      const state = addSpares(emptyLedger(t0), req('a', 100), MAX_SPARES - 1, wide, t0, ids);
      const [spare] = sparesOf(state, 'me') as [string];
      const fitted = fitSpare(state, spare, 60);
      expect(fitted.open[spare]?.costMicros).toBe(60);
      expect(windowUsage(fitted).reservedMicros).toBe(60);
      expect(fitSpare(fitted, spare, 500)).toBe(fitted);
      expect(fitSpare(fitted, 'settled-already', 1)).toBe(fitted);
    });

    it('bill the task that took them, a successor charges one left open in full, and an untaken one bills no task', () => {
      let state = addSpares(emptyLedger(t0), req('a', 100), 2, wide, t0, ids);
      const [taken, idle] = sparesOf(state, 'me') as [string, string];
      state = settle(state, taken, { kind: 'usage', inputTokens: 1, outputTokens: 1, costMicros: 7 }, t0, 'mvp-spec');
      expect(state.tasks['mvp-spec']).toMatchObject({ calls: 1, costMicros: 7 });
      const charged = closeOrphans(state, 'successor', t0);
      expect(charged).toMatchObject({ costMicros: 7 + 100 * SPARE_HEADROOM, open: {}, totals: { calls: 2, costMicros: 7 + 100 * SPARE_HEADROOM } });
      expect(Object.keys(charged.tasks)).toEqual(['mvp-spec']);
      expect(settle(state, idle, { kind: 'released' }, t0)).toMatchObject({ costMicros: 7, open: {} });
      // Cut on a spare larger than its own worst case: charged that worst case, no more.
      expect(settle(state, idle, { kind: 'interrupted', worstCaseMicros: 60 }, t0, 'mvp-spec')).toMatchObject({ costMicros: 67, tasks: { 'mvp-spec': { calls: 2, costMicros: 67 } } });
    });
  });
});
