import type { Condition } from './index.ts';

/** kstatus condition types (Ready/Reconciling/Stalled) and our own. */
export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  Admitted: 'Admitted',
  Provisioned: 'Provisioned',
  TemplateRendered: 'TemplateRendered',
  PipelineSucceeded: 'PipelineSucceeded',
  BudgetExceeded: 'BudgetExceeded',
} as const;

export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

/** metav1.Time keeps whole seconds; writing milliseconds would make every read-back differ. */
export function toKubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/**
 * The list with `update` set: `lastTransitionTime` moves to `now` only when the status
 * flips (or the condition is new). Returns the very same array when nothing changes, so
 * callers can skip the write with an identity check.
 */
export function setCondition(conditions: readonly Condition[] | undefined, update: ConditionUpdate, now: Date): Condition[] {
  const list = conditions ?? [];
  const current = getCondition(list, update.type);
  const lastTransitionTime = current && current.status === update.status ? current.lastTransitionTime : toKubeTime(now);
  const next: Condition = { ...update, lastTransitionTime };
  if (current && sameCondition(current, next)) return list as Condition[];
  return current ? list.map((c) => (c.type === update.type ? next : c)) : [...list, next];
}

function sameCondition(a: Condition, b: Condition): boolean {
  return a.status === b.status && a.reason === b.reason && a.message === b.message
    && a.observedGeneration === b.observedGeneration && a.lastTransitionTime === b.lastTransitionTime;
}
