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

/**
 * Reasons of the `PipelineSucceeded` condition, as the pipeline writes them and the
 * summary (phase, Ready, Reconciling, Stalled) and admission read them.
 */
export const PipelineReason = {
  Succeeded: 'Succeeded',
  NoPipeline: 'NoPipeline',
  /** A task failed for good: the pipeline is over. */
  TaskFailed: 'TaskFailed',
  /** Only a change elsewhere helps: no AIProvider the tasks may use is Ready. */
  NoReadyProvider: 'NoReadyProvider',
  Pending: 'Pending',
  Running: 'Running',
  /** A task failed for a reason that may pass and waits to try again. */
  RetryBackoff: 'RetryBackoff',
  /** A budget ran out; the pipeline resumes by itself when its window resets. */
  BudgetExceeded: 'BudgetExceeded',
  Suspended: 'Suspended',
} as const;

/** The pipeline's word for a suspended Startup, which the Startup's summary also says before the pipeline has looked. */
export const SUSPENDED_MESSAGE = 'suspended (spec.suspend): running attempts are paused, none starts';

export type PipelineVerdict =
  /** No verdict for the current generation yet: the pipeline has not looked at it. */
  | { kind: 'pending' }
  | { kind: 'succeeded'; condition: Condition }
  | { kind: 'failed'; condition: Condition }
  | { kind: 'stalled'; condition: Condition }
  | { kind: 'progressing'; condition: Condition };

/** What the pipeline says about a Startup's current generation, read from its status. */
export function pipelineVerdict(conditions: readonly Condition[] | undefined, generation: number): PipelineVerdict {
  const condition = getCondition(conditions, ConditionType.PipelineSucceeded);
  if (!condition || (condition.observedGeneration ?? 0) < generation) return { kind: 'pending' };
  if (condition.status === 'True') return { kind: 'succeeded', condition };
  if (condition.reason === PipelineReason.TaskFailed) return { kind: 'failed', condition };
  if (condition.reason === PipelineReason.NoReadyProvider) return { kind: 'stalled', condition };
  return { kind: 'progressing', condition };
}

/**
 * Whether a Startup's pipeline is over, succeeded or failed: such a Startup no longer
 * takes one of `--max-active-startups`. The generation is ignored on purpose: an edit to a
 * finished Startup does not take a slot back before the pipeline has looked at it.
 */
export function pipelineFinished(conditions: readonly Condition[] | undefined): boolean {
  const verdict = pipelineVerdict(conditions, 0);
  return verdict.kind === 'succeeded' || verdict.kind === 'failed';
}
