import { describe, expect, it } from 'vitest';
import { allocateNodePorts } from './node-ports.ts';

const pool = { first: 30000, last: 30009 };

describe('allocateNodePorts', () => {
  it('takes the lowest free ports, skipping taken ones', () => {
    const result = allocateNodePorts(['frontend', 'api'], {}, new Set([30000, 30002]), pool);
    expect(result).toEqual({ ok: true, ports: { frontend: 30001, api: 30003 } });
  });

  it('keeps the ports a Startup already holds and fills only new services', () => {
    const result = allocateNodePorts(['frontend', 'api', 'db'], { frontend: 30007, api: 30004 }, new Set([30000]), pool);
    expect(result).toEqual({ ok: true, ports: { frontend: 30007, api: 30004, db: 30001 } });
  });

  it('drops ports of services that are gone', () => {
    const result = allocateNodePorts(['api'], { frontend: 30001, api: 30002 }, new Set(), pool);
    expect(result).toEqual({ ok: true, ports: { api: 30002 } });
  });

  it('moves a held port that another Startup also claims, or that left the pool', () => {
    const result = allocateNodePorts(['a', 'b'], { a: 30003, b: 31000 }, new Set([30003]), pool);
    expect(result).toEqual({ ok: true, ports: { a: 30000, b: 30001 } });
  });

  it('reports exhaustion without taking anything', () => {
    const taken = new Set([30000, 30001, 30002, 30003, 30004, 30005, 30006, 30007, 30008]);
    expect(allocateNodePorts(['a', 'b'], {}, taken, pool)).toEqual({ ok: false, needed: 2, free: 1 });
    expect(allocateNodePorts(['a'], {}, taken, pool)).toEqual({ ok: true, ports: { a: 30009 } });
  });

  it('needs nothing for a Startup with no NodePort services', () => {
    const full = new Set(Array.from({ length: 10 }, (_, i) => 30000 + i));
    expect(allocateNodePorts([], {}, full, pool)).toEqual({ ok: true, ports: {} });
  });
});
