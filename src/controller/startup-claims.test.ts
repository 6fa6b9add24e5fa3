import { describe, expect, it } from 'vitest';
import type { Startup } from '../api/index.ts';
import { claimOf, recordedNodePorts, servicesOf } from './startup-claims.ts';

const raw = (spec: Record<string, unknown>, status?: Startup['status']): Startup => ({
  apiVersion: 'startupfactory.dev/v1alpha1',
  kind: 'Startup',
  metadata: { name: 'acme', uid: 'u1', creationTimestamp: '2026-11-25T10:00:00Z' as unknown as Date },
  spec: { displayName: 'Acme', template: 'reactnext', ...spec } as Startup['spec'],
  ...(status ? { status } : {}),
});

describe('claimOf', () => {
  it('sizes a Startup from its resources, with the defaults', () => {
    expect(claimOf(raw({}))).toEqual({
      name: 'acme', uid: 'u1', priority: 0, creationTimestamp: '2026-11-25T10:00:00Z',
      requests: { cpuMillis: 500, memoryBytes: 512 * 2 ** 20 },
      asks: { cpu: '500m', memory: '512Mi' },
      recorded: { admitted: false, nodePorts: {} },
      finished: false,
    });
    expect(claimOf(raw({ resources: { cpu: 2, memory: '1Gi' }, priority: 7 }))).toMatchObject({ priority: 7, requests: { cpuMillis: 2000, memoryBytes: 2 ** 30 }, asks: { cpu: '2', memory: '1Gi' } });
  });

  it('reads what the status records', () => {
    const status = {
      conditions: [{ type: 'Admitted', status: 'True' as const, reason: 'Admitted', message: '', lastTransitionTime: '2026-11-25T10:00:00Z' }],
      allocation: { services: [{ name: 'web', port: 80, nodePort: 30005 }, { name: 'db', port: 5432 }] },
    };
    expect(claimOf(raw({}, status))?.recorded).toEqual({ admitted: true, nodePorts: { web: 30005 } });
    const done = { conditions: [{ type: 'PipelineSucceeded', status: 'True' as const, reason: 'Succeeded', message: '', lastTransitionTime: '2026-11-25T10:00:00Z' }] };
    expect(claimOf(raw({}, done))?.finished).toBe(true);
    expect(recordedNodePorts(raw({}))).toEqual({});
  });

  it('leaves a Startup whose resources do not validate out of the queue', () => {
    expect(claimOf(raw({ resources: { cpu: 'lots' } }))).toBeUndefined();
  });

  const cycle = { tasks: [{ name: 'a', type: 'research', dependsOn: ['b'] }, { name: 'b', type: 'review', dependsOn: ['a'] }] };

  it('leaves a Startup out whose spec fails the operator\'s own checks (a pipeline cycle): it can never be provisioned, so it holds no slot', () => {
    expect(claimOf(raw({ pipeline: cycle }))).toBeUndefined();
  });

  it('keeps the claim of one admitted before its spec went bad: its namespace, quota and node ports are still there', () => {
    const status = {
      conditions: [{ type: 'Admitted', status: 'True' as const, reason: 'Admitted', message: '', lastTransitionTime: '2026-11-25T10:00:00Z' }],
      allocation: { services: [{ name: 'web', port: 80, nodePort: 30005 }] },
    };
    expect(claimOf(raw({ pipeline: cycle }, status))).toMatchObject({ recorded: { admitted: true, nodePorts: { web: 30005 } }, requests: { cpuMillis: 500 } });
  });
});

describe('servicesOf', () => {
  it('takes the template\'s services when the spec names none', () => {
    const template = { metadata: { name: 't' }, spec: { services: [{ name: 'app', port: 80 }] } } as never;
    expect(servicesOf({ services: undefined }, template)).toEqual([{ name: 'app', port: 80 }]);
    expect(servicesOf({ services: [{ name: 'web', port: 8080 }] }, template)).toEqual([{ name: 'web', port: 8080 }]);
  });
});
