import { describe, expect, it } from 'vitest';
import { AllocationLedger, type Allocation, type StartupClaim } from './ledger.ts';

const Mi = 2 ** 20;
const claim = (name: string, over: Partial<StartupClaim> = {}): StartupClaim => ({
  name,
  uid: `uid-${name}`,
  priority: 0,
  creationTimestamp: '2026-11-25T10:00:00Z',
  requests: { cpuMillis: 100, memoryBytes: 128 * Mi },
  asks: { cpu: '100m', memory: '128Mi' },
  recorded: { admitted: false, nodePorts: {} },
  finished: false,
  ...over,
});
const limits = (maxActive: number) => ({ maxActive, capacity: { cpuMillis: Infinity, memoryBytes: Infinity } });
const pool = { first: 30000, last: 30999 };
const services = ['frontend', 'api', 'db'];
const portsOf = (a: Allocation) => (a.admitted ? a.nodePorts : undefined);

describe('AllocationLedger', () => {
  it('gives 20 Startups created at the same moment unique node ports, before any status is written', () => {
    const ledger = new AllocationLedger();
    const startups = Array.from({ length: 20 }, (_, i) => claim(`s${String(i).padStart(2, '0')}`));
    const ports: number[] = [];
    // Reconciles in arbitrary order, each seeing the same stale cache (no status recorded yet).
    for (const s of [...startups].reverse()) {
      const result = ledger.allocate(startups, s.name, services, limits(20), pool);
      expect(result.admission.admitted).toBe(true);
      const allocated = portsOf(result);
      if (!allocated?.ok) throw new Error('pool exhausted');
      ports.push(...Object.values(allocated.ports));
    }
    expect(ports).toHaveLength(60);
    expect(new Set(ports).size).toBe(60);
  });

  it('answers the same on a repeated reconcile', () => {
    const ledger = new AllocationLedger();
    const startups = [claim('a'), claim('b')];
    const first = ledger.allocate(startups, 'a', services, limits(5), pool);
    ledger.allocate(startups, 'b', services, limits(5), pool);
    expect(ledger.allocate(startups, 'a', services, limits(5), pool)).toEqual(first);
  });

  it('counts its own admissions toward the active limit while statuses lag', () => {
    const ledger = new AllocationLedger();
    expect(ledger.allocate([claim('first')], 'first', [], limits(1), pool).admission.admitted).toBe(true);
    // A higher-priority Startup arrives before first's Admitted status reaches the cache:
    // without the ledger it would take the only slot too.
    const startups = [claim('first'), claim('urgent', { priority: 10 })];
    expect(ledger.allocate(startups, 'urgent', [], limits(1), pool).admission).toMatchObject({ admitted: false, reason: 'ActiveLimitReached' });
    expect(ledger.allocate(startups, 'first', [], limits(1), pool).admission.admitted).toBe(true);
  });

  it('rebuilds from statuses after a restart', () => {
    const recorded = claim('old', { recorded: { admitted: true, nodePorts: { frontend: 30000, api: 30001, db: 30002 } } });
    const ledger = new AllocationLedger();
    const result = ledger.allocate([recorded, claim('new')], 'new', services, limits(5), pool);
    expect(portsOf(result)).toEqual({ ok: true, ports: { frontend: 30003, api: 30004, db: 30005 } });
    expect(portsOf(ledger.allocate([recorded, claim('new')], 'old', services, limits(5), pool)))
      .toEqual({ ok: true, ports: { frontend: 30000, api: 30001, db: 30002 } });
  });

  it('frees the slot and ports of a deleted Startup, and of one recreated under the same name', () => {
    const ledger = new AllocationLedger();
    const tiny = { first: 30000, last: 30002 };
    expect(portsOf(ledger.allocate([claim('a'), claim('b')], 'a', services, limits(1), tiny))?.ok).toBe(true);
    expect(ledger.allocate([claim('a'), claim('b')], 'b', services, limits(1), tiny).admission.admitted).toBe(false);
    expect(portsOf(ledger.allocate([claim('b')], 'b', services, limits(1), tiny))).toEqual({ ok: true, ports: { frontend: 30000, api: 30001, db: 30002 } });
    const reborn = claim('b', { uid: 'uid-b-2' });
    expect(portsOf(ledger.allocate([reborn], 'b', services, limits(1), tiny))?.ok).toBe(true);
  });

  it('reports an exhausted pool and keeps the ports already held', () => {
    const ledger = new AllocationLedger();
    const tiny = { first: 30000, last: 30003 };
    const startups = [claim('a'), claim('b')];
    expect(portsOf(ledger.allocate(startups, 'a', services, limits(5), tiny))?.ok).toBe(true);
    expect(portsOf(ledger.allocate(startups, 'b', services, limits(5), tiny))).toEqual({ ok: false, needed: 3, free: 1 });
    expect(portsOf(ledger.allocate(startups, 'a', [...services, 'admin'], limits(5), tiny))?.ok).toBe(true);
    expect(portsOf(ledger.allocate(startups, 'b', ['frontend'], limits(5), tiny))).toEqual({ ok: false, needed: 1, free: 0 });
  });
});
