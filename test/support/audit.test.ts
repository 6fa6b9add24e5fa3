import { describe, expect, it } from 'vitest';
import { longestGap, overlaps, spans, writesOf, type AuditEvent } from './audit.ts';

const USER = 'system:serviceaccount:ops:sf';
// Microseconds, as the API server writes them.
const t = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString().replace('Z', '000Z');
const event = (pod: string, credential: string, at: number, o: Partial<AuditEvent> & { resource?: string; name?: string; apiGroup?: string } = {}): AuditEvent => ({
  verb: 'patch', requestURI: '/apis/x', user: { username: USER, extra: { 'authentication.kubernetes.io/pod-name': [pod], 'authentication.kubernetes.io/credential-id': [credential] } },
  objectRef: { resource: o.resource ?? 'configmaps', namespace: 'ops', name: o.name ?? 'ledger-a', ...(o.apiGroup ? { apiGroup: o.apiGroup } : {}) },
  responseStatus: { code: 200 }, requestReceivedTimestamp: t(at), stageTimestamp: t(at + 0.5), ...o,
});

describe('writesOf', () => {
  it('keeps the writes that matter: not another user\'s, not reads or dry runs, not the election or a pod labelling itself', () => {
    const events = [
      event('a', 'c1', 1),
      { ...event('a', 'c1', 2), user: { username: 'admin' } },
      { ...event('a', 'c1', 3), verb: 'get' },
      { ...event('a', 'c1', 4), requestURI: '/api/v1/namespaces/x/secrets?dryRun=All&fieldManager=f' },
      event('a', 'c1', 5, { resource: 'leases', apiGroup: 'coordination.k8s.io', name: 'leader' }),
      event('a', 'c1', 6, { resource: 'pods', name: 'a' }),
      event('a', 'c1', 7, { resource: 'pods', name: 'b' }),
    ];
    expect(writesOf(events, USER).map((w) => w.what)).toEqual(['patch configmaps ops/ledger-a', 'patch pods ops/b']);
  });
});

describe('overlaps', () => {
  it('finds none when writers take turns, a container restarted in its pod counting as one of its own', () => {
    const writes = writesOf([event('a', 'c1', 1), event('a', 'c1', 3), event('a', 'c2', 5), event('b', 'c3', 20), event('b', 'c3', 21)], USER);
    expect(spans(writes).map((s) => [s.pod, s.writes])).toEqual([['a', 2], ['a', 1], ['b', 2]]);
    expect(overlaps(writes)).toEqual([]);
  });

  it('names a write made while another writer was writing', () => {
    const writes = writesOf([event('a', 'c1', 1), event('b', 'c2', 2), event('a', 'c1', 3)], USER);
    expect(overlaps(writes)).toEqual([expect.stringMatching(/^b \(credential c2\) wrote \(patch configmaps ops\/ledger-a, .*\) while a \(credential c1\) was writing/)]);
  });
});

describe('longestGap', () => {
  it('measures the longest silence between writes, the window\'s edges included', () => {
    const writes = writesOf([event('a', 'c1', 2), event('a', 'c1', 3), event('b', 'c2', 10)], USER);
    const from = Date.parse(t(0));
    expect(longestGap(writes, from, Date.parse(t(12)))).toMatchObject({ ms: 6500, after: { pod: 'a' }, before: { pod: 'b' } });
    expect(longestGap(writes, from, Date.parse(t(30)))).toMatchObject({ ms: 19_500, after: { pod: 'b' } });
  });
});
