import { describe, expect, it } from 'vitest';
import { decideAdmission, type AdmissionCandidate } from './admission.ts';

const Mi = 2 ** 20;
const candidate = (name: string, over: Partial<AdmissionCandidate> = {}): AdmissionCandidate => ({
  name,
  priority: 0,
  creationTimestamp: '2026-11-25T10:00:00Z',
  requests: { cpuMillis: 500, memoryBytes: 512 * Mi },
  asks: { cpu: '500m', memory: '512Mi' },
  admitted: false,
  finished: false,
  ...over,
});
const roomy = { maxActive: 5, capacity: { cpuMillis: 100_000, memoryBytes: 100_000 * Mi } };
const admittedNames = (d: Map<string, { admitted: boolean }>) => [...d].filter(([, v]) => v.admitted).map(([k]) => k).sort();

describe('decideAdmission', () => {
  it('admits at most maxActive, in creation order, and queues the rest with ActiveLimitReached', () => {
    const startups = Array.from({ length: 7 }, (_, i) => candidate(`s${i}`, { creationTimestamp: `2026-11-25T10:00:0${6 - i}Z` }));
    const decisions = decideAdmission(startups, roomy);
    expect(admittedNames(decisions)).toEqual(['s2', 's3', 's4', 's5', 's6']);
    expect(decisions.get('s1')).toMatchObject({ admitted: false, reason: 'ActiveLimitReached' });
    expect(decisions.get('s0')).toMatchObject({ admitted: false, reason: 'ActiveLimitReached' });
  });

  it('orders by priority first, then creation time, then name', () => {
    const decisions = decideAdmission(
      [
        candidate('old', { creationTimestamp: '2026-11-25T09:00:00Z' }),
        candidate('urgent', { priority: 10, creationTimestamp: '2026-11-25T11:00:00Z' }),
        candidate('b'),
        candidate('a'),
      ],
      { ...roomy, maxActive: 3 },
    );
    expect(admittedNames(decisions)).toEqual(['a', 'old', 'urgent']);
    expect(decisions.get('b')?.reason).toBe('ActiveLimitReached');
  });

  it('never evicts an admitted Startup, even a lower-priority one or over a shrunken limit', () => {
    const decisions = decideAdmission(
      [candidate('low', { admitted: true }), candidate('low2', { admitted: true }), candidate('high', { priority: 100 })],
      { ...roomy, maxActive: 1 },
    );
    expect(admittedNames(decisions)).toEqual(['low', 'low2']);
    expect(decisions.get('high')).toMatchObject({ admitted: false, reason: 'ActiveLimitReached' });
  });

  it('keeps the sum of admitted quotas within capacity and blocks the queue behind the head', () => {
    const capacity = { cpuMillis: 1400, memoryBytes: 4096 * Mi };
    const decisions = decideAdmission(
      [
        candidate('first', { creationTimestamp: '2026-11-25T10:00:01Z', admitted: true }),
        candidate('big', { creationTimestamp: '2026-11-25T10:00:02Z', requests: { cpuMillis: 1000, memoryBytes: 512 * Mi } }),
        candidate('small', { creationTimestamp: '2026-11-25T10:00:03Z', requests: { cpuMillis: 100, memoryBytes: 64 * Mi } }),
      ],
      { maxActive: 5, capacity },
    );
    expect(admittedNames(decisions)).toEqual(['first']);
    expect(decisions.get('big')).toMatchObject({ reason: 'CapacityExceeded', message: expect.stringContaining('cpu 1000m') });
    // small would fit, but it waits behind big so big is not starved.
    expect(decisions.get('small')).toMatchObject({ admitted: false, reason: 'CapacityExceeded' });
  });

  it('counts memory as well as cpu', () => {
    const decisions = decideAdmission([candidate('a'), candidate('b')], { maxActive: 5, capacity: { cpuMillis: 10_000, memoryBytes: 700 * Mi } });
    expect(admittedNames(decisions)).toEqual(['a']);
    expect(decisions.get('b')?.reason).toBe('CapacityExceeded');
  });

  it('refuses a Startup larger than the whole capacity as ExceedsCapacity, naming the resource, without blocking the others', () => {
    const huge = candidate('huge', { priority: 10, requests: { cpuMillis: 64_000, memoryBytes: Mi }, asks: { cpu: '64', memory: '1Mi' } });
    const decisions = decideAdmission([huge, candidate('ok')], { maxActive: 1, capacity: { cpuMillis: 4000, memoryBytes: 8192 * Mi } });
    // At the head of the queue and with one slot, yet the one behind it gets the slot.
    expect(admittedNames(decisions)).toEqual(['ok']);
    expect(decisions.get('huge')).toEqual({ admitted: false, reason: 'ExceedsCapacity', message: "asks cpu 64, more than the factory's whole capacity of 4" });
  });

  it('names every resource beyond the capacity, as the spec wrote it', () => {
    const both = candidate('both', { requests: { cpuMillis: 3000, memoryBytes: Infinity }, asks: { cpu: '3000m', memory: '1e400' } });
    expect(decideAdmission([both], { maxActive: 5, capacity: { cpuMillis: 2500, memoryBytes: 2560 * Mi } }).get('both')?.message)
      .toBe("asks cpu 3000m, more than the factory's whole capacity of 2500m; asks memory 1e400, more than the factory's whole capacity of 2560Mi");
  });

  it('refuses an amount too large to count even when the capacity is unbounded', () => {
    const unbounded = { maxActive: 5, capacity: { cpuMillis: Infinity, memoryBytes: Infinity } };
    const decisions = decideAdmission(
      [candidate('inf', { requests: { cpuMillis: 500, memoryBytes: Infinity }, asks: { cpu: '500m', memory: '1e400' } }), candidate('big', { requests: { cpuMillis: 1e9, memoryBytes: 2 ** 50 } })],
      unbounded,
    );
    expect(decisions.get('inf')).toMatchObject({ admitted: false, reason: 'ExceedsCapacity', message: expect.stringContaining('memory 1e400, more than any capacity') });
    expect(decisions.get('big')?.admitted).toBe(true);
  });

  it('admits a refused Startup once the capacity grows or its spec shrinks to fit', () => {
    const huge = candidate('huge', { requests: { cpuMillis: 6000, memoryBytes: Mi } });
    const small = { maxActive: 5, capacity: { cpuMillis: 4000, memoryBytes: 8192 * Mi } };
    expect(decideAdmission([huge], small).get('huge')?.reason).toBe('ExceedsCapacity');
    expect(decideAdmission([huge], { ...small, capacity: { ...small.capacity, cpuMillis: 6000 } }).get('huge')?.admitted).toBe(true);
    expect(decideAdmission([{ ...huge, requests: { cpuMillis: 4000, memoryBytes: Mi } }], small).get('huge')?.admitted).toBe(true);
  });

  it('counts a refused Startup in neither slots nor capacity: the rest queue as if it were not there', () => {
    const capacity = { cpuMillis: 1000, memoryBytes: 8192 * Mi };
    const rest = [candidate('a', { creationTimestamp: '2026-11-25T10:00:01Z' }), candidate('b', { creationTimestamp: '2026-11-25T10:00:02Z' }), candidate('c', { creationTimestamp: '2026-11-25T10:00:03Z' })];
    const without = decideAdmission(rest, { maxActive: 5, capacity });
    const withHuge = decideAdmission([candidate('huge', { priority: 1, requests: { cpuMillis: 1001, memoryBytes: Mi } }), ...rest], { maxActive: 5, capacity });
    expect(withHuge.get('huge')?.reason).toBe('ExceedsCapacity');
    for (const name of ['a', 'b', 'c']) expect(withHuge.get(name), name).toEqual(without.get(name));
    expect(admittedNames(without)).toEqual(['a', 'b']);
  });

  it('frees the slot of a Startup whose pipeline finished, while its resources still count', () => {
    const all = Array.from({ length: 6 }, (_, i) => candidate(`s${i}`, { creationTimestamp: `2026-11-25T10:00:0${i}Z`, admitted: i < 5 }));
    const finished = all.map((c) => (c.name === 's1' ? { ...c, finished: true } : c));
    expect(decideAdmission(finished, roomy).get('s5')?.admitted).toBe(true);
    const tight = { maxActive: 5, capacity: { cpuMillis: 2500, memoryBytes: 100_000 * Mi } };
    expect(decideAdmission(finished, tight).get('s5')).toMatchObject({ admitted: false, reason: 'CapacityExceeded' });
  });

  it('admits the next in line once an admitted one is gone', () => {
    const all = Array.from({ length: 6 }, (_, i) => candidate(`s${i}`, { creationTimestamp: `2026-11-25T10:00:0${i}Z`, admitted: i < 5 }));
    expect(decideAdmission(all, roomy).get('s5')?.admitted).toBe(false);
    expect(decideAdmission(all.filter((c) => c.name !== 's2'), roomy).get('s5')?.admitted).toBe(true);
  });
});
