import { describe, expect, it } from 'vitest';
import { ConditionType, getCondition, isConditionTrue, setCondition, toKubeTime } from './conditions.ts';

const t0 = new Date('2026-11-25T10:00:00.123Z');
const t1 = new Date('2026-11-25T10:05:00.999Z');
const ready = { type: ConditionType.Ready, status: 'False', reason: 'Provisioning', message: 'creating namespace', observedGeneration: 1 } as const;

describe('setCondition', () => {
  it('adds a new condition stamped with now, at second precision', () => {
    const list = setCondition(undefined, ready, t0);
    expect(list).toEqual([{ ...ready, lastTransitionTime: '2026-11-25T10:00:00Z' }]);
  });

  it('keeps lastTransitionTime when the status does not flip, even if reason and message change', () => {
    const first = setCondition([], ready, t0);
    const second = setCondition(first, { ...ready, reason: 'WaitingForQuota', message: 'quota pending', observedGeneration: 2 }, t1);
    expect(second[0]).toMatchObject({ reason: 'WaitingForQuota', observedGeneration: 2, lastTransitionTime: '2026-11-25T10:00:00Z' });
  });

  it('moves lastTransitionTime when the status flips', () => {
    const first = setCondition([], ready, t0);
    const second = setCondition(first, { ...ready, status: 'True', reason: 'Provisioned', message: '' }, t1);
    expect(getCondition(second, 'Ready')?.lastTransitionTime).toBe('2026-11-25T10:05:00Z');
    expect(isConditionTrue(second, 'Ready')).toBe(true);
  });

  it('returns the same array when nothing changes, so callers can skip the write', () => {
    const first = setCondition([], ready, t0);
    expect(setCondition(first, ready, t1)).toBe(first);
  });

  it('replaces only its own type and never mutates the input', () => {
    const first = setCondition(setCondition([], ready, t0), { ...ready, type: ConditionType.Admitted, status: 'True', reason: 'Admitted' }, t0);
    const snapshot = structuredClone(first);
    const next = setCondition(first, { ...ready, status: 'True', reason: 'Provisioned' }, t1);
    expect(first).toEqual(snapshot);
    expect(next.map((c) => c.type)).toEqual(['Ready', 'Admitted']);
    expect(getCondition(next, 'Admitted')).toEqual(getCondition(first, 'Admitted'));
  });
});

describe('helpers', () => {
  it('toKubeTime drops the milliseconds the API server would drop', () => {
    expect(toKubeTime(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05Z');
  });

  it('getCondition and isConditionTrue tolerate a missing list', () => {
    expect(getCondition(undefined, 'Ready')).toBeUndefined();
    expect(isConditionTrue(undefined, 'Ready')).toBe(false);
  });

  it('names the kstatus and factory condition types', () => {
    expect(Object.values(ConditionType)).toEqual([
      'Ready', 'Reconciling', 'Stalled', 'Admitted', 'Provisioned', 'TemplateRendered', 'PipelineSucceeded', 'BudgetExceeded',
    ]);
  });
});
