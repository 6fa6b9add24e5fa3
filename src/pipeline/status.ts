import { formatUsd, type PipelineTask, type StartupStatus } from '../api/index.ts';
import { ConditionType, PipelineReason, SUSPENDED_MESSAGE, setCondition, toKubeTime } from '../api/conditions.ts';
import { STARTUP_PIPELINE } from '../api/status-owners.ts';
import { ownedDiffers } from '../runtime/status.ts';
import type { TaskInstance } from './dag.ts';
import { outputConfigMapName } from './names.ts';
import type { TaskState } from './state.ts';

/** `cachedCalls`: answered from the gateway's response cache (free); none when absent. */
export type TaskUsage = { calls: number; cachedCalls?: number; inputTokens: number; outputTokens: number; costMicros: number };

/** Everything the pipeline's part of a Startup's status is computed from. */
export type PipelineView = {
  generation: number;
  instances: readonly TaskInstance[];
  states: ReadonlyMap<string, TaskState>;
  suspended: boolean;
  /** The budget ran out: nothing starts until `until`. */
  budget: { until: number; message: string } | undefined;
  /** Why a ready task has no provider to run on, when none of its candidates is Ready. */
  noProvider: string | undefined;
  modelOf: (provider: string, task: PipelineTask) => string | undefined;
  usage: (task: string) => TaskUsage | undefined;
};

type TaskStatus = NonNullable<StartupStatus['tasks']>[number];

/**
 * The pipeline's fields of a Startup's status (`tasks`, `progress`, `completedAt`, the
 * `PipelineSucceeded` condition), from the tasks' states; the same object when nothing
 * changed. Timestamps come from the objects (Job creation, the output's finish time), and
 * the status itself only remembers what no object still holds (a deleted Job's start), so
 * recomputing never moves them.
 */
export function pipelineStatus(current: StartupStatus | undefined, view: PipelineView, now: Date): StartupStatus {
  const previous = new Map((current?.tasks ?? []).map((t) => [t.name, t]));
  const failed = view.instances.find((i) => view.states.get(i.name)?.phase === 'Failed');
  const tasks = view.instances.map((i) => taskStatus(i, view.states.get(i.name)!, previous.get(i.name), view, failed !== undefined));
  const succeeded = tasks.filter((t) => t.phase === 'Succeeded').length;
  const condition = verdict(view, tasks, failed);
  const finished = condition.status === 'True' || condition.reason === PipelineReason.TaskFailed;
  const completedAt = finished ? (latestTime(tasks.map((t) => t.finishedAt)) ?? current?.completedAt ?? toKubeTime(now)) : undefined;
  const next: StartupStatus = {
    ...current,
    tasks,
    progress: `${succeeded}/${tasks.length}`,
    conditions: setCondition(current?.conditions, { type: ConditionType.PipelineSucceeded, ...condition, observedGeneration: view.generation }, now),
  };
  if (completedAt) next.completedAt = completedAt;
  else delete next.completedAt;
  return ownedDiffers(current, next, STARTUP_PIPELINE) ? next : current!;
}

function taskStatus(instance: TaskInstance, state: TaskState, previous: TaskStatus | undefined, view: PipelineView, pipelineFailed: boolean): TaskStatus {
  const jobs = state.jobs;
  const latest = jobs.at(-1);
  const status: TaskStatus = { name: instance.name, type: instance.task.type, phase: state.phase };
  if (state.phase === 'Pending' && pipelineFailed) status.phase = 'Skipped';
  const attempts = Math.max(latest?.attempt ?? 0, previous?.attempts ?? 0);
  if (attempts > 0) status.attempts = attempts;
  if (latest) status.job = latest.name;
  else if (previous?.job) status.job = previous.job;
  const startedAt = jobs[0]?.createdAt ?? previous?.startedAt;
  if (startedAt) status.startedAt = startedAt;
  const provider = state.phase === 'Succeeded' ? state.output.provider : latest?.provider;
  if (provider) {
    status.provider = provider;
    const model = state.phase === 'Succeeded' ? state.output.model : view.modelOf(provider, instance.task);
    if (model) status.model = model;
  }
  const usage = view.usage(instance.name);
  const cachedCalls = usage?.cachedCalls ?? 0;
  if (usage && (usage.calls > 0 || cachedCalls > 0)) {
    status.usage = { calls: usage.calls, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costUsd: formatUsd(usage.costMicros) };
    if (cachedCalls > 0) status.usage.cachedCalls = cachedCalls;
  }
  switch (state.phase) {
    case 'Succeeded':
      if (state.output.finishedAt) status.finishedAt = state.output.finishedAt;
      if (state.output.quality !== undefined) status.quality = state.output.quality;
      status.output = outputConfigMapName(instance.name);
      break;
    case 'Failed': {
      const at = latest?.finishedAt ?? previous?.finishedAt;
      if (at) status.finishedAt = at;
      status.reason = `${state.reason}: ${state.message}`.slice(0, 1024);
      break;
    }
    case 'Pending':
      if (state.wait.kind === 'backoff') status.reason = `RetryBackoff: ${state.wait.after}`.slice(0, 1024);
      if (state.wait.kind === 'budget') status.reason = 'BudgetExceeded: waiting for the budget window to reset';
      break;
    case 'Running':
      break;
  }
  return status;
}

type Verdict = { status: 'True' | 'False'; reason: string; message: string };

function verdict(view: PipelineView, tasks: readonly TaskStatus[], failed: TaskInstance | undefined): Verdict {
  if (tasks.length === 0) return { status: 'True', reason: PipelineReason.NoPipeline, message: 'no pipeline: neither the Startup nor its template defines one' };
  // Messages name the state, not the count: progress is in `progress` and `tasks`, and a
  // message that changed with every task would make the summary (which copies it) write too.
  const done = tasks.filter((t) => t.phase === 'Succeeded').length;
  const running = tasks.some((t) => t.phase === 'Running');
  if (failed) {
    const state = view.states.get(failed.name) as Extract<TaskState, { phase: 'Failed' }>;
    return { status: 'False', reason: PipelineReason.TaskFailed, message: `task ${failed.name} failed: ${state.reason}: ${state.message}`.slice(0, 4096) };
  }
  if (done === tasks.length) return { status: 'True', reason: PipelineReason.Succeeded, message: `all ${tasks.length} tasks succeeded` };
  if (view.suspended) return { status: 'False', reason: PipelineReason.Suspended, message: SUSPENDED_MESSAGE };
  if (view.budget) return { status: 'False', reason: PipelineReason.BudgetExceeded, message: `${view.budget.message}; resumes at ${toKubeTime(new Date(view.budget.until))}` };
  if (running) return { status: 'False', reason: PipelineReason.Running, message: 'tasks are running' };
  if (view.noProvider) return { status: 'False', reason: PipelineReason.NoReadyProvider, message: view.noProvider };
  const waiting = [...view.states.values()].some((s) => s.phase === 'Pending' && s.wait.kind === 'backoff');
  if (waiting) return { status: 'False', reason: PipelineReason.RetryBackoff, message: 'an attempt failed and is retried after a backoff' };
  return { status: 'False', reason: PipelineReason.Pending, message: 'starting' };
}

function latestTime(times: readonly (string | undefined)[]): string | undefined {
  return times.filter((t): t is string => t !== undefined).sort().at(-1);
}
