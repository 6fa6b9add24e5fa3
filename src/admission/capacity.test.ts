import { describe, expect, it } from 'vitest';
import { factoryCapacity } from './capacity.ts';

describe('factoryCapacity', () => {
  it('sums the Nodes\' allocatable', () => {
    const nodes = [{ status: { allocatable: { cpu: '3500m', memory: '8Gi' } } }, { status: { allocatable: { cpu: '2', memory: '1024Mi' } } }];
    expect(factoryCapacity(nodes, {})).toEqual({ cpuMillis: 5500, memoryBytes: 9 * 2 ** 30 });
  });

  it('prefers the flags', () => {
    const nodes = [{ status: { allocatable: { cpu: '2', memory: '1Gi' } } }];
    expect(factoryCapacity(nodes, { capacityCpu: '16', capacityMemory: '32Gi' })).toEqual({ cpuMillis: 16_000, memoryBytes: 32 * 2 ** 30 });
  });

  it('is unbounded in a dimension no Node reports', () => {
    expect(factoryCapacity([], { capacityMemory: '2Gi' })).toEqual({ cpuMillis: Infinity, memoryBytes: 2 * 2 ** 30 });
  });
});
