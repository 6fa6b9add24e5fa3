import { backoffDelay } from '../lib/rate-limit.ts';
import type { TaskInstance } from './dag.ts';
import type { JobView } from './job.ts';

/** What the scheduler knows of a task's stored output, from its ConfigMap's metadata alone. */
export type OutputView = {
  name: string;
  provider: string | undefined;
  model: string | undefined;
  quality: number | undefined;
  /** On a codegen output the review judged: the rubric's own score, before the verdict counted. */
  rubricQuality: number | undefined;
  attempt: number | undefined;
  finishedAt: string | undefined;
  /** On a decompose output: how many work items it holds. */
  workItems: number | undefined;
};

export type RetryPolicy = {
  /** Attempts a task gets before a transient failure becomes final (budget stops do not count). */
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
};

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, backoff: { baseMs: 10_000, maxMs: 300_000 } };

/**
 * Jobs and ConfigMaps come through different watches, so a Job's completion can reach
 * the cache before the output its pod stored first; a completed Job without an output
 * is a failure only once this has passed.
 */
export const OUTPUT_GRACE_MS = 30_000;

/**
 * Where one task stands, decided from its output, its Jobs and its dependencies alone.
 * `ready` tasks may start an attempt when a slot and a provider are free.
 */
export type TaskState =
  | { phase: 'Succeeded'; output: OutputView; jobs: JobView[] }
  | { phase: 'Failed'; reason: string; message: string; jobs: JobView[] }
  /** `settlesBy`: the Job completed and its output is not in the cache yet, which it will be by then if it was stored. */
  | { phase: 'Running'; job: JobView; jobs: JobView[]; settlesBy?: number }
  | { phase: 'Pending'; wait: PendingWait; jobs: JobView[]; nextAttempt: number };

export type PendingWait =
  | { kind: 'ready' }
  | { kind: 'dependencies'; on: string[] }
  | { kind: 'fan-out'; on: string }
  | { kind: 'backoff'; until: number; after: string }
  | { kind: 'budget'; after: string };

/** The attempts of a task in order; the latest decides. */
function latest(jobs: readonly JobView[]): JobView | undefined {
  return jobs.reduce<JobView | undefined>((a, j) => (!a || j.attempt > a.attempt ? j : a), undefined);
}

/**
 * One task's state. Level-based: nothing is remembered between calls but what `status`
 * recorded (the attempt count, for Jobs that were deleted). A Job that completed without
 * posting an output is a failed attempt (the output is what the pipeline needs), a
 * budget stop is no failure at all, and a transient failure is retried after a backoff
 * counted from when the failed Job ended, until the attempts run out.
 */
export function taskState(
  instance: TaskInstance,
  jobs: readonly JobView[],
  output: OutputView | undefined,
  dependencies: ReadonlyMap<string, TaskState['phase']>,
  recordedAttempts: number,
  retry: RetryPolicy,
  now: number,
): TaskState {
  const mine = jobs.filter((j) => j.task === instance.name).sort((a, b) => a.attempt - b.attempt);
  if (output) return { phase: 'Succeeded', output, jobs: mine };
  const last = latest(mine);
  const nextAttempt = Math.max(last?.attempt ?? 0, recordedAttempts) + 1;
  if (last?.state === 'active') return { phase: 'Running', job: last, jobs: mine };
  const completedAt = last?.state === 'succeeded' ? Date.parse(last.finishedAt ?? '') || now : undefined;
  if (last && completedAt !== undefined && now < completedAt + OUTPUT_GRACE_MS) {
    return { phase: 'Running', job: last, jobs: mine, settlesBy: completedAt + OUTPUT_GRACE_MS };
  }
  if (last && last.state === 'failed' && (last.failure?.kind === 'permanent')) {
    return { phase: 'Failed', reason: last.failure.reason, message: last.failure.message, jobs: mine };
  }
  if (last) {
    if (last.state === 'failed' && last.failure?.kind === 'budget') {
      return { phase: 'Pending', wait: { kind: 'budget', after: last.name }, jobs: mine, nextAttempt };
    }
    const failures = mine.filter((j) => j.state !== 'active' && j.failure?.kind !== 'budget');
    const reason = last.state === 'succeeded' ? 'NoOutput' : (last.failure?.reason ?? 'JobFailed');
    const message = last.state === 'succeeded' ? `Job ${last.name} completed without storing an output` : (last.failure?.message ?? 'the attempt failed');
    if (failures.length >= retry.maxAttempts) {
      return { phase: 'Failed', reason, message: `${message} (after ${failures.length} attempts)`, jobs: mine };
    }
    const endedAt = Date.parse(last.finishedAt ?? '') || now;
    const until = endedAt + backoffDelay(failures.length - 1, { ...retry.backoff, jitter: 0 });
    if (until > now) return { phase: 'Pending', wait: { kind: 'backoff', until, after: `${last.name}: ${reason}` }, jobs: mine, nextAttempt };
  }
  if (instance.awaiting) return { phase: 'Pending', wait: { kind: 'fan-out', on: instance.awaiting }, jobs: mine, nextAttempt };
  const unmet = instance.dependsOn.filter((d) => dependencies.get(d) !== 'Succeeded');
  if (unmet.length > 0) return { phase: 'Pending', wait: { kind: 'dependencies', on: unmet }, jobs: mine, nextAttempt };
  return { phase: 'Pending', wait: { kind: 'ready' }, jobs: mine, nextAttempt };
}

/**
 * The attempt before the next one when the Jobs given do not show it. Status recorded it,
 * so its Job was made, but an informer's cache can lag behind the API server (a watch that
 * was down, an event not delivered yet) and that attempt may still be running: the next
 * may start only once a live read has said which it is, running, ended or gone. Undefined
 * for a first attempt, or when the previous one is among the Jobs.
 */
export function unseenPreviousAttempt(state: Extract<TaskState, { phase: 'Pending' }>): number | undefined {
  const previous = state.nextAttempt - 1;
  return previous >= 1 && !state.jobs.some((j) => j.attempt === previous) ? previous : undefined;
}

/** Every instance's state, dependencies first (`instances` is in dependency order). */
export function taskStates(
  instances: readonly TaskInstance[],
  jobs: readonly JobView[],
  outputs: ReadonlyMap<string, OutputView>,
  recordedAttempts: ReadonlyMap<string, number>,
  retry: RetryPolicy,
  now: number,
): Map<string, TaskState> {
  const states = new Map<string, TaskState>();
  const phases = new Map<string, TaskState['phase']>();
  for (const instance of instances) {
    const state = taskState(instance, jobs, outputs.get(instance.name), phases, recordedAttempts.get(instance.name) ?? 0, retry, now);
    states.set(instance.name, state);
    phases.set(instance.name, state.phase);
  }
  return states;
}
