/**
 * The operator killed with SIGKILL at random moments while pipelines run and calls are in
 * flight: everything still completes, no task runs twice at once, no Job is made twice,
 * every call is on the ledger once, and a budget holds across the kill.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUsd, tokenCostMicros, type Startup } from '../../../src/api/index.ts';
import { MAX_SPARES } from '../../../src/gateway/ledger.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { TOKEN_KEY_SECRET, mintToken } from '../../../src/pipeline/token.ts';
import { paths } from '../../../cluster/paths.ts';
import { MOCK_USAGE, validOutput } from '../../support/ai-fixture/replies.ts';
import { uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, isProvisioned, startFactory, type TestFactory } from '../../support/factory.ts';
import { OperatorProcess } from '../../support/operator-process.ts';
import { Fixtures, applyProvider, waitForPhase, type MockProvider, suspendedAttemptJob } from '../../support/pipeline.ts';
import { pipelineProblems } from '../../support/pipeline-audit.ts';

let factory: TestFactory;
let operator: OperatorProcess;
const fixtures = new Fixtures();

beforeAll(async () => {
  factory = await startFactory(['--leader-elect=false'], { external: true });
  operator = new OperatorProcess({ flags: factory.flags, gatewayPort: factory.gatewayPort, logFile: join(paths.logs, `test-${factory.namespace}-operator.log`) });
  await operator.start();
});

afterAll(async () => {
  await operator?.stop();
  await factory?.cleanup();
  await fixtures.close();
});


describe('SIGKILL at random moments', () => {
  it('completes two pipelines with no overlapping attempts, no duplicate Job and every call metered once', async () => {
    const upstream = await fixtures.start({ apiKey: 'sk-crash', latencyMs: 400, reply: validOutput });
    const p: MockProvider = { name: uniqueName('crashy'), type: 'openai', baseURL: `${upstream.url}/v1`, key: 'sk-crash', input: '2.50', output: '10.00' };
    await applyProvider(factory, p);
    const names = [uniqueName('kill-a'), uniqueName('kill-b')];
    await apply(names.map((n) => factory.manifest(n, { displayName: n, industry: 'fintech', ai: { providers: [p.name] } })));

    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, randomInt(1500, 4500)));
      await operator.kill();
      await new Promise((r) => setTimeout(r, randomInt(100, 1000)));
      await operator.start();
    }
    const done: Startup[] = [];
    for (const n of names) done.push(await waitForPhase(factory, n, ['Succeeded', 'Failed'], 300_000));
    for (const s of done) expect(s.status?.phase, JSON.stringify(s.status?.tasks?.filter((t) => t.phase !== 'Succeeded'))).toBe('Succeeded');

    // One Job per (task, attempt): the names are deterministic and the API server refuses a second create.
    for (const s of done) expect(await pipelineProblems(factory.client, s)).toEqual([]);
    // Every call that reached the upstream is on a ledger exactly once; a kill may leave, per
    // startup, one reservation whose call never went out and the spares made ahead of calls
    // (a successor cannot know which were taken): charged in full, never less.
    const settled = await waitFor('the ledgers to settle', async () => {
      const all = await Promise.all(names.map((n) => factory.get(n)));
      return all.every((s) => s.status?.usage?.reservedUsd === '0.000000') && all;
    }, 60_000);
    const calls = settled.reduce((sum, s) => sum + (s.status?.usage?.totalCalls ?? 0), 0);
    expect(calls).toBeGreaterThanOrEqual(upstream.requests.length);
    expect(calls).toBeLessThanOrEqual(upstream.requests.length + names.length * operator.kills * (1 + MAX_SPARES));
    const perCall = tokenCostMicros(MOCK_USAGE.inputTokens, parseUsd(p.input)) + tokenCostMicros(MOCK_USAGE.outputTokens, parseUsd(p.output));
    const tasks = settled.reduce((sum, s) => sum + (s.status?.tasks?.length ?? 0), 0);
    const cost = settled.reduce((sum, s) => sum + parseUsd(s.status!.usage!.totalCostUsd!), 0);
    expect(cost).toBeGreaterThanOrEqual(tasks * perCall);
    expect(operator.logs()).toContain('AI gateway listening');
  });

  it('lets no more than a budget\'s worth of fifty concurrent calls through, with the operator killed mid-flight', async () => {
    const upstream = await fixtures.start({ apiKey: 'sk-race-kill', latencyMs: 3000, reply: () => ({ content: 'ok', inputTokens: 10, outputTokens: 10 }) });
    const p: MockProvider = { name: uniqueName('racekill'), type: 'openai', baseURL: `${upstream.url}/v1`, key: 'sk-race-kill', input: '1.00', output: '1000.00' };
    await applyProvider(factory, p);
    const name = uniqueName('racekill');
    await apply([factory.manifest(name, {
      displayName: 'Race Kill', suspend: true, ai: { providers: [p.name], quota: { callsPerHour: 1000, costPerDay: '5.01' } },
      pipeline: { tasks: [{ name: 'market-research', type: 'research' }] },
    })]);
    const startup = await waitFor('provisioned', async () => { const s = await factory.get(name); return isProvisioned(s) && s; }, 60_000);
    // Minted with the key in the gateway's Secret, as the scheduler (in the operator process) would.
    const key = await factory.client.get<KubeObject & { data: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', namespace: factory.namespace, name: TOKEN_KEY_SECRET });
    const token = mintToken(Buffer.from(key.data.key!, 'base64'), await suspendedAttemptJob(factory, startup, 'market-research'));
    const fire = () => {
      const client = new OpenAI({ apiKey: token, baseURL: `http://127.0.0.1:${factory.gatewayPort}/providers/${p.name}/v1`, maxRetries: 0 });
      return Promise.allSettled(Array.from({ length: 50 }, () => client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1000 })));
    };
    const first = fire();
    await waitFor('five calls in flight upstream', async () => upstream.inFlight() === 5, 30_000, 50);
    await operator.kill();
    await first;
    await operator.start();
    const second = await fire();
    expect(second.every((r) => r.status === 'rejected' && (r.reason as { status?: number }).status === 402)).toBe(true);
    expect(upstream.requests).toHaveLength(5);
    // The five cut calls were charged at their reservations by the operator that came back.
    const charged = await waitFor('the orphaned reservations to be charged', async () => {
      const s = await factory.get(name);
      return s.status?.usage?.totalCalls === 5 && s.status.usage.reservedUsd === '0.000000' && s;
    }, 60_000);
    expect(parseUsd(charged.status!.usage!.costTodayUsd!)).toBeLessThanOrEqual(parseUsd('5.01'));
    expect(parseUsd(charged.status!.usage!.costTodayUsd!)).toBeGreaterThan(parseUsd('5.00'));
  });
});
