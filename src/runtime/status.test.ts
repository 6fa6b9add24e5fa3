import { describe, expect, it } from 'vitest';
import type { StatusOwnership } from '../api/status-owners.ts';
import { canonical, ownedDiffers, ownedStatus } from './status.ts';

const pipeline: StatusOwnership = { fieldManager: 'p', fields: ['tasks', 'progress'], conditionTypes: ['PipelineSucceeded'] };
const cond = (type: string, status = 'True') => ({ type, status, reason: 'R', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' });

describe('owned status', () => {
  it('takes only the writer\'s fields and conditions', () => {
    const status = { phase: 'Running', progress: '1/2', conditions: [cond('Ready'), cond('PipelineSucceeded', 'False')] };
    expect(ownedStatus(status, pipeline)).toEqual({ progress: '1/2', conditions: [cond('PipelineSucceeded', 'False')] });
  });

  it('sees no difference in others\' fields, key order or condition order', () => {
    const a = { phase: 'Running', progress: '1/2', conditions: [cond('Ready'), cond('PipelineSucceeded')] };
    const b = { conditions: [cond('PipelineSucceeded'), cond('Ready', 'False')], progress: '1/2', phase: 'Failed' };
    expect(ownedDiffers(a, b, pipeline)).toBe(false);
    expect(ownedDiffers(a, { ...a, progress: '2/2' }, pipeline)).toBe(true);
    expect(ownedDiffers(a, { progress: '1/2' }, pipeline)).toBe(true);
  });

  it('canonical JSON ignores key order only', () => {
    expect(canonical({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe(canonical({ a: [2, { c: 2, d: 1 }], b: 1 }));
    expect(canonical([1, 2])).not.toBe(canonical([2, 1]));
  });
});
