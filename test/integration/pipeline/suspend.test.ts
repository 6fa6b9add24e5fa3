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

type Jobs = { items: { metadata: { name: string }; spec: { suspend?: boolean }; status?: { conditions?: { type: string; status: string }[] } }[] };
const jobs = async () => (JSON.parse((await kubectl(['get', 'jobs', '-n', `startup-${name}`, '-o', 'json'])).stdout) as Jobs).items;
const active = (j: Jobs['items'][number]) => !j.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

beforeAll(async () => {
  factory = await startFactory([]);
  // Slow answers, so there are tasks running when the Startup is suspended.
  upstream = new AiFixture({ apiKey: 'sk-nap', latencyMs: 2500, reply: validOutput });
  await upstream.start();
  const provider = uniqueName('slow');
  await applyProvider(factory, { name: provider, type: 'openai', baseURL: `${upstream.url}/v1`, key: 'sk-nap', input: '1.00', output: '1.00' });
  await apply([factory.manifest(name, { displayName: 'Napping', ai: { providers: [provider] } })]);
});

afterAll(async () => {
  await factory?.cleanup();
  await upstream?.close();
});

describe('suspend and resume', () => {
  it('suspends the running Jobs and starts none while suspended', async () => {
    await waitFor('a task running', async () => (await factory.get(name)).status?.tasks?.some((t) => t.phase === 'Running'), 120_000, 250);
    expect((await kubectl(['patch', 'startup', name, '--type=merge', '-p', '{"spec":{"suspend":true}}'])).code).toBe(0);
    const suspended = await waitForPhase(factory, name, ['Suspended'], 30_000);
    expect(condition(suspended, 'PipelineSucceeded')).toMatchObject({ status: 'False', reason: 'Suspended' });
    await waitFor('every unfinished Job suspended', async () => (await jobs()).filter(active).every((j) => j.spec.suspend === true), 30_000);
    // A suspended Job's pods are deleted: once they are gone, nothing can call out.
    await waitFor('the task pods gone', async () => {
      const { stdout } = await kubectl(['get', 'pods', '-n', `startup-${name}`, '--field-selector', 'status.phase=Running', '-o', 'name']);
      return stdout.trim() === '';
    }, 60_000);
    const before = (await jobs()).map((j) => j.metadata.name).sort();
    const calls = upstream.requests.length;
    await new Promise((r) => setTimeout(r, 6000));
    expect((await jobs()).map((j) => j.metadata.name).sort()).toEqual(before);
    expect(upstream.requests.length).toBe(calls);
  });

  it('carries on when resumed, and finishes', async () => {
    expect((await kubectl(['patch', 'startup', name, '--type=merge', '-p', '{"spec":{"suspend":false}}'])).code).toBe(0);
    const done = await waitForPhase(factory, name, ['Succeeded', 'Failed'], 240_000);
    expect(done.status?.phase).toBe('Succeeded');
    // Resumed, not restarted: tasks that had finished kept their first attempt.
    expect(done.status?.tasks?.find((t) => t.name === 'market-research')?.attempts).toBe(1);
  });
});
