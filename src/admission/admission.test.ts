import { describe, expect, it } from 'vitest';
import { decideAdmission, type AdmissionCandidate } from './admission.ts';

const Mi = 2 ** 20;
const candidate = (name: string, over: Partial<AdmissionCandidate> = {}): AdmissionCandidate => ({
  name,
  priority: 0,
  creationTimestamp: '2026-11-25T10:00:00Z',
  requests: { cpuMillis: 500, memoryBytes: 512 * Mi },
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

  it('refuses a Startup larger than the whole capacity without blocking the others', () => {
    const decisions = decideAdmission(
      [candidate('huge', { creationTimestamp: '2026-11-25T09:00:00Z', requests: { cpuMillis: 64_000, memoryBytes: Mi } }), candidate('ok')],
      { maxActive: 5, capacity: { cpuMillis: 4000, memoryBytes: 8192 * Mi } },
    );
    expect(admittedNames(decisions)).toEqual(['ok']);
    expect(decisions.get('huge')).toMatchObject({ reason: 'CapacityExceeded', message: expect.stringContaining('whole capacity') });
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
