/** spec.suspend pauses a running pipeline (its Jobs suspended, none started) and resuming carries on where it stopped. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiFixture } from '../../support/ai-fixture/server.ts';
import { validOutput } from '../../support/ai-fixture/replies.ts';
import { kubectl, uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, condition, startFactory, type TestFactory } from '../../support/factory.ts';
import { applyProvider, waitForPhase } from '../../support/pipeline.ts';

let factory: TestFactory;
let upstream: AiFixture;
const name = uniqueName('napping');
const namespace = `startup-${name}`;

type Job = { metadata: { name: string; labels?: Record<string, string> }; spec: { suspend?: boolean }; status?: { conditions?: { type: string; status: string }[] } };
const jobs = async () => (JSON.parse((await kubectl(['get', 'jobs', '-n', namespace, '-o', 'json'])).stdout) as { items: Job[] }).items;
const active = (j: Job) => !j.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
const names = (list: Job[]) => list.map((j) => j.metadata.name).sort();

/** Reconciles the pipeline controller has made so far. */
async function pipelineReconciles(): Promise<number> {
  const metric = await factory.operator.manager.metrics.reconcileTotal.get();
  return metric.values.filter((v) => v.labels.controller === 'pipeline').reduce((n, v) => n + v.value, 0);
}

// Two tasks ready at once but one slot per startup: when the running one is suspended its
// slot is free, so a pipeline that started work while suspended would start the other.
const PIPELINE = {
  tasks: [
    { name: 'market-research', type: 'research' as const },
    { name: 'founder-analysis', type: 'analysis' as const },
    { name: 'mvp-spec', type: 'spec' as const, dependsOn: ['market-research', 'founder-analysis'] },
  ],
};
let suspendedJobs: string[] = [];

beforeAll(async () => {
  factory = await startFactory(['--max-tasks-per-startup', '1']);
  // Slow answers, so there is a task running when the Startup is suspended.
  upstream = new AiFixture({ apiKey: 'sk-nap', latencyMs: 2500, reply: validOutput });
  await upstream.start();
  const provider = uniqueName('slow');
  await applyProvider(factory, { name: provider, type: 'openai', baseURL: `${upstream.url}/v1`, key: 'sk-nap', input: '1.00', output: '1.00' });
  await apply([factory.manifest(name, { displayName: 'Napping', ai: { providers: [provider] }, pipeline: PIPELINE })]);
});

afterAll(async () => {
  await factory?.cleanup();
  await upstream?.close();
});

describe('suspend and resume', () => {
  it('suspends the running Job and starts none while suspended, though a slot is free', async () => {
    // Mid-call: the upstream has the running task's request.
    const running = await waitFor('a task running, mid-call', async () => {
      const tasks = (await factory.get(name)).status?.tasks ?? [];
      return upstream.requests.length > 0 && tasks.some((t) => t.phase === 'Running') && tasks;
    }, 120_000, 250);
    const waiting = running.filter((t) => t.phase !== 'Running' && t.phase !== 'Succeeded').map((t) => t.name);
    expect(waiting.length).toBeGreaterThan(0);
    expect((await kubectl(['patch', 'startup', name, '--type=merge', '-p', '{"spec":{"suspend":true}}'])).code).toBe(0);
    // The phase is the provisioning writer's reading of the spec, the condition the pipeline's
    // acknowledgement: two writers, so each is waited for, not read at the moment of the other.
    await waitForPhase(factory, name, ['Suspended'], 30_000);
    await waitFor('the pipeline to acknowledge the suspension', async () =>
      condition(await factory.get(name), 'PipelineSucceeded')?.reason === 'Suspended', 30_000);
    expect(condition(await factory.get(name), 'PipelineSucceeded')).toMatchObject({ status: 'False', reason: 'Suspended' });
    // At least one Job was running: an empty list would make "every one suspended" true of nothing.
    const paused = await waitFor('every unfinished Job suspended', async () => {
      const unfinished = (await jobs()).filter(active);
      return unfinished.length > 0 && unfinished.every((j) => j.spec.suspend === true) && unfinished;
    }, 30_000);
    suspendedJobs = names(paused);
    // A suspended Job's pods are deleted: once they are gone, nothing can call out.
    await waitFor('the task pods gone', async () => {
      const { stdout } = await kubectl(['get', 'pods', '-n', namespace, '-o', 'name']);
      return stdout.trim() === '';
    }, 60_000);

    // No window of wall time: the pipeline is made to look at the Startup again, twice, and starts nothing.
    const before = names(await jobs());
    const calls = upstream.requests.length;
    const reconciled = await pipelineReconciles();
    for (const nudge of ['1', '2']) {
      expect((await kubectl(['annotate', 'startup', name, '--overwrite', `test.startupfactory.dev/nudge=${nudge}`])).code).toBe(0);
      await waitFor(`pipeline reconcile after nudge ${nudge}`, async () => (await pipelineReconciles()) >= reconciled + Number(nudge), 30_000);
    }
    expect(names(await jobs())).toEqual(before);
    expect(upstream.requests.length).toBe(calls);
    const still = await factory.get(name);
    expect(still.status?.phase).toBe('Suspended');
    for (const task of waiting) expect(still.status?.tasks?.find((t) => t.name === task)?.job).toBeUndefined();
  });

  it('resumes the same Jobs when unsuspended, and finishes', async () => {
    expect(suspendedJobs.length).toBeGreaterThan(0);
    expect((await kubectl(['patch', 'startup', name, '--type=merge', '-p', '{"spec":{"suspend":false}}'])).code).toBe(0);
    // Resumed, not replaced: the suspended Jobs themselves run again.
    await waitFor('the suspended Jobs resumed', async () => {
      const all = await jobs();
      return suspendedJobs.every((n) => all.find((j) => j.metadata.name === n)?.spec.suspend === false);
    }, 30_000);
    const done = await waitForPhase(factory, name, ['Succeeded', 'Failed'], 240_000);
    expect(done.status?.phase).toBe('Succeeded');
    // Carried on where it stopped: every task in its first attempt, the suspended ones in the very Jobs that were paused.
    for (const t of done.status?.tasks ?? []) expect(t.attempts, t.name).toBe(1);
    const jobOf = new Map((done.status?.tasks ?? []).map((t) => [t.job, t.name]));
    for (const job of suspendedJobs) expect(jobOf.has(job), `${job} finished its task`).toBe(true);
  });
});
