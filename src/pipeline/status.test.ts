import { describe, expect, it } from 'vitest';
import type { Condition, PipelineTask, StartupStatus } from '../api/index.ts';
import { ConditionType, getCondition } from '../api/conditions.ts';
import { expandPipeline } from './dag.ts';
import type { JobView } from './job.ts';
import { DEFAULT_RETRY, taskStates, type OutputView } from './state.ts';
import { pipelineStatus, type PipelineView, type TaskUsage } from './status.ts';

const t0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const now = new Date(t0);

const def = (name: string, dependsOn: string[] = [], over: Partial<PipelineTask> = {}): PipelineTask => ({ name, type: 'research', dependsOn, ...over });

/** research → spec → review, and founder on its own. */
const tasks: PipelineTask[] = [def('research'), def('founder', [], { type: 'analysis' }), def('spec', ['research'], { type: 'spec' }), def('review', ['spec'], { type: 'review' })];

function job(task: string, attempt: number, over: Partial<JobView> = {}): JobView {
  return {
    name: `${task}-${attempt}`, uid: `uid-${task}-${attempt}`, task, attempt, provider: 'openai', suspended: false,
    state: 'active', createdAt: iso(t0 - 600_000 + attempt * 1_000), finishedAt: undefined, failure: undefined, ttlSet: false, ...over,
  };
}
const failedJob = (task: string, attempt: number, finishedAt: number, kind: 'permanent' | 'transient' | 'budget', reason: string) =>
  job(task, attempt, { state: 'failed', finishedAt: iso(finishedAt), failure: { kind, reason, message: `${reason} from upstream` } });

const output = (name: string, finishedAt: number, over: Partial<OutputView> = {}): OutputView => ({
  name: `output-${name}`, provider: 'anthropic', model: 'claude-sonnet-4-5', quality: 0.82, rubricQuality: undefined, attempt: 1, finishedAt: iso(finishedAt), workItems: undefined, ...over,
});

type Scenario = {
  tasks?: PipelineTask[];
  jobs?: JobView[];
  outputs?: Record<string, OutputView>;
  usage?: Record<string, TaskUsage>;
  over?: Partial<PipelineView>;
  at?: number;
};

function view(s: Scenario = {}): PipelineView {
  const list = s.tasks ?? tasks;
  const outputs = new Map(Object.entries(s.outputs ?? {}));
  const instances = expandPipeline(list, (t) => outputs.get(t)?.workItems);
  return {
    generation: 3,
    instances,
    states: taskStates(instances, s.jobs ?? [], outputs, new Map(), DEFAULT_RETRY, s.at ?? t0),
    suspended: false,
    budget: undefined,
    noProvider: undefined,
    modelOf: (provider, task) => task.model ?? `${provider}-default-model`,
    usage: (task) => s.usage?.[task],
    ...s.over,
  };
}

const allDone: Record<string, OutputView> = {
  research: output('research', t0 - 400_000),
  founder: output('founder', t0 - 300_000),
  spec: output('spec', t0 - 100_000),
  review: output('review', t0 - 200_000),
};

function condition(status: StartupStatus): Condition {
  const c = getCondition(status.conditions, ConditionType.PipelineSucceeded);
  if (!c) throw new Error('no PipelineSucceeded condition');
  return c;
}
const entry = (status: StartupStatus, name: string) => {
  const found = status.tasks?.find((t) => t.name === name);
  if (!found) throw new Error(`no task ${name}`);
  return found;
};

describe('pipelineStatus: task entries', () => {
  const scenario: Scenario = {
    jobs: [job('research', 1, { state: 'succeeded', finishedAt: iso(t0 - 100_000) }), job('founder', 1), job('founder', 2, { provider: 'anthropic' })],
    outputs: { research: output('research', t0 - 90_000) },
    usage: {
      research: { calls: 3, inputTokens: 1200, outputTokens: 400, costMicros: 1250 },
      founder: { calls: 0, inputTokens: 0, outputTokens: 0, costMicros: 0 },
    },
  };

  it('describes a succeeded task by its output: provider, model, quality, finish time and ConfigMap', () => {
    const status = pipelineStatus(undefined, view(scenario), now);
    expect(entry(status, 'research')).toEqual({
      name: 'research', type: 'research', phase: 'Succeeded',
      attempts: 1, job: 'research-1', startedAt: iso(t0 - 599_000),
      provider: 'anthropic', model: 'claude-sonnet-4-5',
      usage: { calls: 3, inputTokens: 1200, outputTokens: 400, costUsd: '0.001250' },
      finishedAt: iso(t0 - 90_000), quality: 0.82, output: 'output-research',
    });
  });

  it('describes a running task by its latest Job, with the model the provider will use, and no usage before a call', () => {
    const status = pipelineStatus(undefined, view(scenario), now);
    expect(entry(status, 'founder')).toEqual({
      name: 'founder', type: 'analysis', phase: 'Running',
      attempts: 2, job: 'founder-2', startedAt: iso(t0 - 599_000),
      provider: 'anthropic', model: 'anthropic-default-model',
    });
  });

  it('lists a task not started yet as Pending with nothing else, in dependency order', () => {
    const status = pipelineStatus(undefined, view(scenario), now);
    expect(status.tasks?.map((t) => t.name)).toEqual(['research', 'founder', 'spec', 'review']);
    expect(entry(status, 'review')).toEqual({ name: 'review', type: 'review', phase: 'Pending' });
    expect(status.progress).toBe('1/4');
  });

  it('keeps the attempts and job a previous status recorded when the Jobs are gone', () => {
    const current: StartupStatus = { tasks: [{ name: 'spec', type: 'spec', phase: 'Pending', attempts: 4, job: 'spec-4', startedAt: iso(t0 - 900_000) }] };
    const status = pipelineStatus(current, view(scenario), now);
    expect(entry(status, 'spec')).toMatchObject({ attempts: 4, job: 'spec-4', startedAt: iso(t0 - 900_000) });
  });

  it('gives a failed task its typed reason and finish time', () => {
    const status = pipelineStatus(undefined, view({ jobs: [failedJob('research', 1, t0 - 5_000, 'permanent', 'Unauthorized')] }), now);
    expect(entry(status, 'research')).toMatchObject({
      phase: 'Failed', attempts: 1, job: 'research-1', provider: 'openai', model: 'openai-default-model',
      finishedAt: iso(t0 - 5_000), reason: 'Unauthorized: Unauthorized from upstream',
    });
  });

  it('gives a task in backoff and one stopped by the budget their reasons', () => {
    const status = pipelineStatus(undefined, view({
      jobs: [failedJob('research', 1, t0 - 1_000, 'transient', 'RateLimited'), failedJob('founder', 1, t0 - 1_000, 'budget', 'BudgetExceeded')],
    }), now);
    expect(entry(status, 'research')).toMatchObject({ phase: 'Pending', attempts: 1, reason: 'RetryBackoff: research-1: RateLimited' });
    expect(entry(status, 'founder')).toMatchObject({ phase: 'Pending', attempts: 1, reason: 'BudgetExceeded: waiting for the budget window to reset' });
  });

  it('uses the task\'s model override for a running task', () => {
    const list = [def('research', [], { model: 'gpt-5-mini' })];
    const status = pipelineStatus(undefined, view({ tasks: list, jobs: [job('research', 1)] }), now);
    expect(entry(status, 'research').model).toBe('gpt-5-mini');
  });
});

describe('pipelineStatus: the PipelineSucceeded condition', () => {
  it('is True NoPipeline when there are no tasks', () => {
    const status = pipelineStatus(undefined, view({ tasks: [] }), now);
    expect(condition(status)).toMatchObject({ status: 'True', reason: 'NoPipeline', observedGeneration: 3 });
    expect(status.tasks).toEqual([]);
    expect(status.progress).toBe('0/0');
  });

  it('is True Succeeded when every task succeeded, finished at the latest output', () => {
    const status = pipelineStatus(undefined, view({ outputs: allDone }), now);
    expect(condition(status)).toMatchObject({ status: 'True', reason: 'Succeeded', lastTransitionTime: iso(t0) });
    expect(status.progress).toBe('4/4');
    expect(status.completedAt).toBe(iso(t0 - 100_000));
  });

  it('is False TaskFailed when a task failed, skipping the pending tasks but not the running ones', () => {
    const status = pipelineStatus(undefined, view({
      jobs: [failedJob('research', 1, t0 - 5_000, 'permanent', 'InvalidOutput'), job('founder', 1)],
    }), now);
    const c = condition(status);
    expect(c).toMatchObject({ status: 'False', reason: 'TaskFailed' });
    expect(c.message).toContain('research');
    expect(c.message).toContain('InvalidOutput');
    expect(status.tasks?.map((t) => [t.name, t.phase])).toEqual([['research', 'Failed'], ['founder', 'Running'], ['spec', 'Skipped'], ['review', 'Skipped']]);
    expect(status.completedAt).toBe(iso(t0 - 5_000));
  });

  it('is False Suspended when the Startup is suspended', () => {
    const status = pipelineStatus(undefined, view({ jobs: [job('research', 1)], over: { suspended: true } }), now);
    expect(condition(status)).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(status.completedAt).toBeUndefined();
  });

  it('is False BudgetExceeded with the time it resumes', () => {
    const until = Date.parse('2026-12-02T00:00:00Z');
    const status = pipelineStatus(undefined, view({ over: { budget: { until, message: 'costPerDay 15.000000 USD reached' } } }), now);
    const c = condition(status);
    expect(c).toMatchObject({ status: 'False', reason: 'BudgetExceeded' });
    expect(c.message).toContain('costPerDay 15.000000 USD reached');
    expect(c.message).toContain('2026-12-02T00:00:00Z');
  });

  it('is False Running while a task runs, with a message that does not change with each task', () => {
    const one = condition(pipelineStatus(undefined, view({ jobs: [job('research', 1)] }), now));
    const two = condition(pipelineStatus(undefined, view({ jobs: [job('research', 1), job('founder', 1)] }), now));
    expect(two).toMatchObject({ status: 'False', reason: 'Running' });
    // The summary copies this message into Ready: were it to count tasks, every task would cost a second write.
    expect(two.message).toBe(one.message);
  });

  it('is False NoReadyProvider when nothing runs and no provider is ready', () => {
    const status = pipelineStatus(undefined, view({ over: { noProvider: 'no AIProvider is Ready: openai (Unauthorized)' } }), now);
    expect(condition(status)).toMatchObject({ status: 'False', reason: 'NoReadyProvider', message: 'no AIProvider is Ready: openai (Unauthorized)' });
  });

  it('prefers Running over NoReadyProvider', () => {
    const status = pipelineStatus(undefined, view({ jobs: [job('research', 1)], over: { noProvider: 'none ready' } }), now);
    expect(condition(status).reason).toBe('Running');
  });

  it('is False RetryBackoff when the only thing to do is wait for a retry', () => {
    const status = pipelineStatus(undefined, view({
      tasks: [def('research')], jobs: [failedJob('research', 1, t0 - 1_000, 'transient', 'ServerError')],
    }), now);
    expect(condition(status)).toMatchObject({ status: 'False', reason: 'RetryBackoff' });
    expect(status.completedAt).toBeUndefined();
  });

  it('is False Pending when tasks are about to start', () => {
    expect(condition(pipelineStatus(undefined, view(), now))).toMatchObject({ status: 'False', reason: 'Pending' });
  });
});

describe('pipelineStatus: stability', () => {
  it('returns the very same object when recomputed from its own result and the same view', () => {
    for (const scenario of [{}, { jobs: [job('research', 1)] }, { outputs: allDone }, { tasks: [] }]) {
      const first = pipelineStatus({ phase: 'Running' }, view(scenario), now);
      expect(pipelineStatus(first, view(scenario), new Date(t0 + 60_000))).toBe(first);
    }
  });

  it('keeps the fields other writers own', () => {
    const status = pipelineStatus({ phase: 'Running', namespace: 'startup-acme' }, view(), now);
    expect(status).toMatchObject({ phase: 'Running', namespace: 'startup-acme' });
  });

  it('moves lastTransitionTime only when the status flips, not when the reason or message changes', () => {
    const first = pipelineStatus(undefined, view({ jobs: [job('research', 1)] }), now);
    const later = new Date(t0 + 60_000);
    const second = pipelineStatus(first, view({ over: { suspended: true } }), later);
    expect(second).not.toBe(first);
    expect(condition(second).message).not.toBe(condition(first).message);
    expect(condition(second).lastTransitionTime).toBe(condition(first).lastTransitionTime);
    const muchLater = new Date(t0 + 600_000);
    const done = pipelineStatus(second, view({ outputs: allDone }), muchLater);
    expect(condition(done).status).toBe('True');
    expect(condition(done).lastTransitionTime).toBe(iso(t0 + 600_000));
  });

  it('sets completedAt only while finished, and drops it when the pipeline runs again', () => {
    const done = pipelineStatus(undefined, view({ outputs: allDone }), now);
    expect(done.completedAt).toBe(iso(t0 - 100_000));
    const again = pipelineStatus(done, view({ outputs: { research: allDone.research! }, jobs: [job('spec', 2)] }), new Date(t0 + 60_000));
    expect(again.completedAt).toBeUndefined();
    expect('completedAt' in again).toBe(false);
  });
});
