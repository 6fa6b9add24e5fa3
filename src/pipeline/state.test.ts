import { describe, expect, it } from 'vitest';
import type { PipelineTask } from '../api/index.ts';
import { expandPipeline, type TaskInstance } from './dag.ts';
import type { JobView } from './job.ts';
import { DEFAULT_RETRY, OUTPUT_GRACE_MS, taskState, taskStates, unseenPreviousAttempt, type OutputView, type RetryPolicy, type TaskState } from './state.ts';

const t0 = Date.parse('2026-12-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const def = (name: string, dependsOn: string[] = [], over: Partial<PipelineTask> = {}): PipelineTask => ({ name, type: 'research', dependsOn, ...over });
const instance = (name: string, dependsOn: string[] = [], over: Partial<TaskInstance> = {}): TaskInstance => ({
  name, task: def(name, dependsOn), dependsOn, ...over,
});

function job(task: string, attempt: number, over: Partial<JobView> = {}): JobView {
  return {
    name: `${task}-${attempt}`, uid: `uid-${task}-${attempt}`, task, attempt, provider: 'openai', suspended: false,
    state: 'active', createdAt: iso(t0), finishedAt: undefined, failure: undefined, ttlSet: false, ...over,
  };
}
const failed = (task: string, attempt: number, finishedAt: number, kind: 'permanent' | 'transient' | 'budget' | 'revoked' = 'transient', reason = 'RateLimited') =>
  job(task, attempt, { state: 'failed', finishedAt: iso(finishedAt), failure: { kind, reason, message: `${reason} happened` } });
const completed = (task: string, attempt: number, finishedAt: number) => job(task, attempt, { state: 'succeeded', finishedAt: iso(finishedAt) });

const output = (name: string, over: Partial<OutputView> = {}): OutputView => ({
  name: `output-${name}`, provider: 'openai', model: 'gpt-5', quality: 0.9, rubricQuality: undefined, attempt: 1, finishedAt: iso(t0), workItems: undefined, ...over,
});

const none = new Map<string, TaskState['phase']>();
const state = (i: TaskInstance, jobs: JobView[], now: number, o: { output?: OutputView; deps?: Map<string, TaskState['phase']>; recorded?: number; retry?: RetryPolicy } = {}) =>
  taskState(i, jobs, o.output, o.deps ?? none, o.recorded ?? 0, o.retry ?? DEFAULT_RETRY, now);

function pending(s: TaskState): Extract<TaskState, { phase: 'Pending' }> {
  if (s.phase !== 'Pending') throw new Error(`expected Pending, got ${s.phase}`);
  return s;
}

describe('taskState', () => {
  const a = instance('a');
  const b = instance('b', ['a', 'c']);

  it('is ready when it has no dependencies and no attempt yet, with attempt 1 next', () => {
    expect(state(a, [], t0)).toEqual({ phase: 'Pending', wait: { kind: 'ready' }, jobs: [], nextAttempt: 1 });
  });

  it('is ready once every dependency succeeded', () => {
    const deps = new Map<string, TaskState['phase']>([['a', 'Succeeded'], ['c', 'Succeeded']]);
    expect(pending(state(b, [], t0, { deps })).wait).toEqual({ kind: 'ready' });
  });

  it('waits on the dependencies that have not succeeded, naming exactly those', () => {
    const deps = new Map<string, TaskState['phase']>([['a', 'Succeeded'], ['c', 'Running']]);
    expect(pending(state(b, [], t0, { deps })).wait).toEqual({ kind: 'dependencies', on: ['c'] });
    expect(pending(state(b, [], t0)).wait).toEqual({ kind: 'dependencies', on: ['a', 'c'] });
    const failedDep = new Map<string, TaskState['phase']>([['a', 'Failed'], ['c', 'Succeeded']]);
    expect(pending(state(b, [], t0, { deps: failedDep })).wait).toEqual({ kind: 'dependencies', on: ['a'] });
  });

  it('waits for the fan-out while the placeholder awaits its source\'s output, even with dependencies met', () => {
    const placeholder = instance('codegen', ['decompose'], { awaiting: 'decompose' });
    const deps = new Map<string, TaskState['phase']>([['decompose', 'Succeeded']]);
    expect(pending(state(placeholder, [], t0, { deps })).wait).toEqual({ kind: 'fan-out', on: 'decompose' });
  });

  it('is Running while its latest Job is active', () => {
    const j2 = job('a', 2);
    const s = state(a, [failed('a', 1, t0 - 60_000), j2], t0);
    expect(s).toMatchObject({ phase: 'Running', job: j2 });
    expect(s.phase === 'Running' && s.settlesBy).toBeUndefined();
  });

  it('only looks at its own Jobs', () => {
    const s = state(a, [job('other', 1), failed('other', 2, t0, 'permanent')], t0);
    expect(s).toEqual({ phase: 'Pending', wait: { kind: 'ready' }, jobs: [], nextAttempt: 1 });
  });

  it('lists its Jobs in attempt order', () => {
    const jobs = [failed('a', 2, t0 - 50_000), failed('a', 1, t0 - 100_000)];
    expect(state(a, jobs, t0).jobs.map((j) => j.attempt)).toEqual([1, 2]);
  });

  it('is Succeeded when its output exists, whatever its Jobs say', () => {
    const out = output('a');
    for (const jobs of [[], [job('a', 1)], [failed('a', 1, t0, 'permanent')], [failed('a', 1, t0), failed('a', 2, t0), failed('a', 3, t0)]]) {
      const s = state(a, jobs, t0, { output: out });
      expect(s.phase).toBe('Succeeded');
      expect(s.phase === 'Succeeded' && s.output).toBe(out);
    }
  });

  it('fails at once on a permanent failure, with its typed reason', () => {
    const s = state(a, [failed('a', 1, t0 - 1_000, 'permanent', 'Unauthorized')], t0);
    expect(s).toMatchObject({ phase: 'Failed', reason: 'Unauthorized', message: 'Unauthorized happened' });
  });

  it('waits for the budget after a budget stop, without counting it as a failure', () => {
    const jobs = [failed('a', 1, t0 - 1_000, 'budget', 'BudgetExceeded')];
    expect(state(a, jobs, t0)).toMatchObject({ phase: 'Pending', wait: { kind: 'budget', after: 'a-1' }, nextAttempt: 2 });
    // Three budget stops and two transient failures are two counted failures: not yet over with maxAttempts 3.
    const many = [
      failed('a', 1, t0 - 500_000, 'budget'), failed('a', 2, t0 - 400_000, 'budget'), failed('a', 3, t0 - 300_000, 'budget'),
      failed('a', 4, t0 - 200_000), failed('a', 5, t0 - 100_000),
    ];
    expect(state(a, many, t0)).toMatchObject({ phase: 'Pending', wait: { kind: 'ready' }, nextAttempt: 6 });
  });

  it('backs off 10 s after a first transient failure, counted from when the failed Job ended', () => {
    const endedAt = t0 - 4_000;
    const s = pending(state(a, [failed('a', 1, endedAt)], t0));
    expect(s.wait).toEqual({ kind: 'backoff', until: endedAt + 10_000, after: 'a-1: RateLimited' });
    expect(s.nextAttempt).toBe(2);
    expect(pending(state(a, [failed('a', 1, endedAt)], endedAt + 9_999)).wait.kind).toBe('backoff');
    expect(pending(state(a, [failed('a', 1, endedAt)], endedAt + 10_000)).wait).toEqual({ kind: 'ready' });
  });

  it('backs off 20 s after a second transient failure', () => {
    const endedAt = t0 - 1_000;
    const jobs = [failed('a', 1, t0 - 60_000), failed('a', 2, endedAt, 'transient', 'Timeout')];
    expect(pending(state(a, jobs, t0)).wait).toEqual({ kind: 'backoff', until: endedAt + 20_000, after: 'a-2: Timeout' });
    expect(pending(state(a, jobs, endedAt + 20_000)).wait).toEqual({ kind: 'ready' });
  });

  it('still waits on its dependencies once the backoff is over', () => {
    const deps = new Map<string, TaskState['phase']>([['a', 'Succeeded']]);
    const s = pending(state(b, [failed('b', 1, t0 - 60_000)], t0, { deps }));
    expect(s.wait).toEqual({ kind: 'dependencies', on: ['c'] });
  });

  it('fails after maxAttempts counted transient failures, saying how many', () => {
    const jobs = [failed('a', 1, t0 - 300_000), failed('a', 2, t0 - 200_000), failed('a', 3, t0 - 100_000, 'transient', 'ServerError')];
    const s = state(a, jobs, t0);
    expect(s.phase).toBe('Failed');
    if (s.phase !== 'Failed') return;
    expect(s.reason).toBe('ServerError');
    expect(s.message).toContain('ServerError happened');
    expect(s.message).toContain('after 3 attempts');
    expect(state(a, jobs.slice(0, 2), t0).phase).toBe('Pending');
    expect(state(a, jobs.slice(0, 1), t0, { retry: { ...DEFAULT_RETRY, maxAttempts: 1 } }).phase).toBe('Failed');
  });

  it('counts a revoked attempt as a failure', () => {
    const jobs = [failed('a', 1, t0 - 300_000), failed('a', 2, t0 - 200_000), failed('a', 3, t0 - 100_000, 'revoked', 'Revoked')];
    expect(state(a, jobs, t0)).toMatchObject({ phase: 'Failed', reason: 'Revoked' });
  });

  it('keeps a Job that completed without an output Running until OUTPUT_GRACE_MS after it finished', () => {
    const finishedAt = t0 - 5_000;
    const j = completed('a', 1, finishedAt);
    expect(state(a, [j], t0)).toMatchObject({ phase: 'Running', job: j, settlesBy: finishedAt + OUTPUT_GRACE_MS });
    expect(state(a, [j], finishedAt + OUTPUT_GRACE_MS - 1).phase).toBe('Running');
    expect(state(a, [j], finishedAt + OUTPUT_GRACE_MS).phase).toBe('Pending');
  });

  it('turns a completed Job still without an output after the grace into a failed attempt (NoOutput)', () => {
    const finishedAt = t0 - OUTPUT_GRACE_MS - 1_000;
    const slow: RetryPolicy = { maxAttempts: 3, backoff: { baseMs: 60_000, maxMs: 300_000 } };
    expect(pending(state(a, [completed('a', 1, finishedAt)], t0, { retry: slow })).wait)
      .toEqual({ kind: 'backoff', until: finishedAt + 60_000, after: 'a-1: NoOutput' });
    const s = state(a, [completed('a', 1, finishedAt)], t0, { retry: { ...DEFAULT_RETRY, maxAttempts: 1 } });
    expect(s).toMatchObject({ phase: 'Failed', reason: 'NoOutput' });
    expect(s.phase === 'Failed' && s.message).toContain('a-1');
    // With DEFAULT_RETRY its 10 s backoff has passed within the grace: the next attempt may start.
    expect(state(a, [completed('a', 1, finishedAt)], t0)).toMatchObject({ phase: 'Pending', wait: { kind: 'ready' }, nextAttempt: 2 });
  });

  it('counts completed-without-output attempts towards maxAttempts', () => {
    const jobs = [failed('a', 1, t0 - 300_000), completed('a', 2, t0 - 200_000), completed('a', 3, t0 - 100_000)];
    expect(state(a, jobs, t0)).toMatchObject({ phase: 'Failed', reason: 'NoOutput' });
  });

  it('numbers the next attempt after both the latest Job and the recorded attempts', () => {
    expect(pending(state(a, [], t0, { recorded: 4 })).nextAttempt).toBe(5);
    expect(pending(state(a, [failed('a', 2, t0 - 60_000, 'budget')], t0, { recorded: 1 })).nextAttempt).toBe(3);
    expect(pending(state(a, [failed('a', 2, t0 - 60_000, 'budget')], t0, { recorded: 7 })).nextAttempt).toBe(8);
    expect(pending(state(a, [failed('a', 1, t0 - 60_000), failed('a', 3, t0 - 60_000)], t0, { recorded: 2 })).nextAttempt).toBe(4);
  });
});

describe('taskStates', () => {
  const tasks: PipelineTask[] = [
    def('research'), def('spec', ['research']), def('decompose', ['spec'], { type: 'decompose' }),
    def('codegen', ['decompose'], { type: 'codegen', forEach: 'decompose' }), def('review', ['codegen'], { type: 'review' }),
  ];

  it('decides each instance from the states of those before it', () => {
    const instances = expandPipeline(tasks, () => undefined);
    const states = taskStates(instances, [job('spec', 1)], new Map([['research', output('research')]]), new Map(), DEFAULT_RETRY, t0);
    expect([...states.keys()]).toEqual(['research', 'spec', 'decompose', 'codegen', 'review']);
    expect(states.get('research')?.phase).toBe('Succeeded');
    expect(states.get('spec')?.phase).toBe('Running');
    expect(pending(states.get('decompose')!).wait).toEqual({ kind: 'dependencies', on: ['spec'] });
    expect(pending(states.get('codegen')!).wait).toEqual({ kind: 'fan-out', on: 'decompose' });
    expect(pending(states.get('review')!).wait).toEqual({ kind: 'dependencies', on: ['codegen'] });
  });

  it('makes fan-out instances ready once the source succeeded, and their dependent wait on every one', () => {
    const instances = expandPipeline(tasks, (t) => (t === 'decompose' ? 2 : undefined));
    const outputs = new Map([
      ['research', output('research')], ['spec', output('spec')], ['decompose', output('decompose', { workItems: 2 })], ['codegen-1', output('codegen-1')],
    ]);
    const states = taskStates(instances, [], outputs, new Map([['codegen-0', 2]]), DEFAULT_RETRY, t0);
    expect(pending(states.get('codegen-0')!)).toMatchObject({ wait: { kind: 'ready' }, nextAttempt: 3 });
    expect(states.get('codegen-1')?.phase).toBe('Succeeded');
    expect(pending(states.get('review')!).wait).toEqual({ kind: 'dependencies', on: ['codegen-0'] });
  });
});

describe('unseenPreviousAttempt', () => {
  const a = instance('a');

  it('names the recorded attempt whose Job the cache does not show, and nothing for a first attempt or a seen one', () => {
    // Status says attempt 1 was made; the cache shows no Job of it (a watch that lagged).
    expect(unseenPreviousAttempt(pending(state(a, [], t0, { recorded: 1 })))).toBe(1);
    // The cache shows attempt 1 ended, but status already counts a second one.
    expect(unseenPreviousAttempt(pending(state(a, [failed('a', 1, t0 - 60_000)], t0, { recorded: 2 })))).toBe(2);
    expect(unseenPreviousAttempt(pending(state(a, [], t0)))).toBeUndefined();
    expect(unseenPreviousAttempt(pending(state(a, [failed('a', 1, t0 - 60_000)], t0, { recorded: 1 })))).toBeUndefined();
  });
});
