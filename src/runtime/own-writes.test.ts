import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/client.ts';
import { OwnWrites } from './own-writes.ts';

const at = (resourceVersion: string, uid = 'u1'): KubeObject => ({ apiVersion: 'v1', kind: 'X', metadata: { name: 'a', uid, resourceVersion } });

describe('OwnWrites', () => {
  it('answers with the written object while the cache still holds what it was written over', () => {
    const writes = new OwnWrites<KubeObject>();
    const cached = at('10');
    const written = at('11');
    writes.record(cached, written);
    expect(writes.latest(cached)).toBe(written);
    expect(writes.latest(cached)).toBe(written);
  });

  it('follows a chain of writes made within one pass, over the cached object and over each other', () => {
    const writes = new OwnWrites<KubeObject>();
    const cached = at('10');
    const first = at('11');
    const second = at('12');
    writes.record(cached, first);
    writes.record(first, second);
    expect(writes.latest(cached)).toBe(second);
    expect(writes.latest(first)).toBe(second);
  });

  it('gives the cache back its word once it holds any other version, ours or a later one', () => {
    const writes = new OwnWrites<KubeObject>();
    writes.record(at('10'), at('11'));
    const later = at('13');
    expect(writes.latest(later)).toBe(later);
    // The entry is gone: even the old version is the cache's own answer now.
    const old = at('10');
    expect(writes.latest(old)).toBe(old);
  });

  it('keeps objects apart by uid, and forgets the ones no longer live', () => {
    const writes = new OwnWrites<KubeObject>();
    writes.record(at('10', 'u1'), at('11', 'u1'));
    writes.record(at('20', 'u2'), at('21', 'u2'));
    writes.retain(new Set(['u2']));
    const u1 = at('10', 'u1');
    expect(writes.latest(u1)).toBe(u1);
    expect(writes.latest(at('20', 'u2')).metadata.resourceVersion).toBe('21');
  });
});
