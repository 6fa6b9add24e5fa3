import { describe, expect, it } from 'vitest';
import { closeOrphans, emptyLedger, reserve, settle, type LedgerState, type Limits } from '../../src/gateway/ledger.ts';
import { auditLedger } from './ledger-audit.ts';

const t0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const limits: Limits = { callsPerHour: 10, costPerDayMicros: 5_000 };
const req = (id: string, costMicros = 1_000, holder = 'a') => ({ id, task: 'market-research', holder, costMicros, deadline: t0 + 60_000 });

function admitted(state: LedgerState, id: string, costMicros?: number, holder?: string): LedgerState {
  const r = reserve(state, req(id, costMicros, holder), limits, t0);
  if (!r.ok) throw new Error(`refused ${id}`);
  return r.state;
}

describe('auditLedger', () => {
  it('passes what the ledger functions write: reservations, settlements, a release, orphans charged by a successor', () => {
    const s1 = admitted(admitted(admitted(emptyLedger(t0), 'x'), 'y'), 'z');
    const s2 = settle(settle(s1, 'x', { kind: 'usage', inputTokens: 1, outputTokens: 1, costMicros: 10 }, t0), 'y', { kind: 'released' }, t0);
    const s3 = admitted(s2, 'w');
    const s4 = closeOrphans(s3, 'b', t0);
    expect(Object.keys(s4.open)).toEqual([]);
    expect(auditLedger([s1, s2, s3, s4], limits)).toEqual([]);
  });

  it('catches a call billed twice, though each state on its own is within the budget', () => {
    const open = admitted(emptyLedger(t0), 'x');
    const once = settle(open, 'x', { kind: 'interrupted' }, t0);
    const twice: LedgerState = { ...once, calls: 2, costMicros: 2_000, totals: { ...once.totals, calls: 2, costMicros: 2_000 } };
    expect(auditLedger([open, twice], limits)).toEqual([
      'state 1: 2 calls billed but 1 reservations closed',
      'state 1: 2000 µUSD billed but the reservations that closed held 1000',
    ]);
  });

  it('catches a call billed with no reservation, and a reservation opened again', () => {
    const open = admitted(emptyLedger(t0), 'x');
    const settled = settle(open, 'x', { kind: 'usage', inputTokens: 1, outputTokens: 1, costMicros: 10 }, t0);
    const unreserved: LedgerState = { ...settled, totals: { ...settled.totals, calls: 2 } };
    expect(auditLedger([open, settled, unreserved, open], limits)).toEqual([
      'state 2: 1 calls billed but 0 reservations closed',
      'state 3: reservation x is open again after it closed',
      'state 3: the totals went down (-2 calls, -10 µUSD)',
    ]);
  });

  it('catches spending plus reservations over the day\'s budget, and calls over the hour\'s', () => {
    const full = admitted(emptyLedger(t0), 'x', 5_000);
    const over: LedgerState = { ...full, open: { ...full.open, y: { ...full.open.x!, costMicros: 1 } } };
    const busy: LedgerState = { ...emptyLedger(t0), calls: 11 };
    expect(auditLedger([over], limits)).toEqual(['state 0: 0 µUSD spent and 5001 reserved, over the day\'s 5000']);
    expect(auditLedger([busy], limits)).toEqual(['state 0: 11 calls counted in the hour, over its 10']);
  });
});
