/**
 * Budgets that hold: a spent budget stops the pipeline cleanly (not Failed) with no call
 * past it, fifty calls at once on a budget that fits five let exactly five through, and
 * a paused pipeline resumes by itself when its window resets (on a clock the test moves).
 */
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUsd, type Startup } from '../../../src/api/index.ts';
import { validOutput } from '../../support/ai-fixture/replies.ts';
import { uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, condition, isProvisioned, startFactory, type TestFactory } from '../../support/factory.ts';
import { Fixtures, applyProvider, type MockProvider, suspendedAttemptJob } from '../../support/pipeline.ts';
import { ShiftedClock } from '../../support/shifted-clock.ts';

const factories: TestFactory[] = [];
const fixtures = new Fixtures();


async function factoryWith(flags: string[], clock?: ShiftedClock): Promise<TestFactory> {
  const f = await startFactory(flags, clock ? { clock } : {});
  factories.push(f);
  return f;
}

afterAll(async () => {
  await Promise.all(factories.map((f) => f.cleanup()));
  await fixtures.close();
});

describe('budgets', () => {
  it('stops the pipeline at a tiny costPerDay, BudgetExceeded and not Failed, with no call beyond it', async () => {
    const factory = await factoryWith([]);
    const upstream = await fixtures.start({ apiKey: 'sk-budget', reply: validOutput });
    const p: MockProvider = { name: uniqueName('pricey'), type: 'openai', baseURL: `${upstream.url}/v1`, key: 'sk-budget', input: '100.00', output: '100.00' };
    await applyProvider(factory, p);
    const name = uniqueName('thrifty');
    await apply([factory.manifest(name, { displayName: 'Thrifty', ai: { providers: [p.name], quota: { callsPerHour: 1000, costPerDay: '3.00' } } })]);
    const paused = await waitFor('the budget to run out and the running tasks to stop', async () => {
      const s = await factory.get(name);
      return condition(s, 'BudgetExceeded')?.status === 'True' && condition(s, 'PipelineSucceeded')?.reason === 'BudgetExceeded'
        && !s.status?.tasks?.some((t) => t.phase === 'Running') && s;
    }, 180_000, 500);
    expect(paused.status?.phase).toBe('Running');
    expect(condition(paused, 'BudgetExceeded')).toMatchObject({ reason: 'CostPerDayExceeded', message: expect.stringMatching(/resets at 20\d\d-\d\d-\d\dT00:00:00Z/) });
    expect(condition(paused, 'Ready')).toMatchObject({ status: 'False', reason: 'BudgetExceeded' });
    expect(condition(paused, 'Stalled')?.status).toBe('False');
    expect(paused.status?.tasks?.some((t) => t.phase === 'Failed')).toBe(false);
    // Nothing gets past the budget: every call the upstream saw is on the ledger, and none comes after.
    const seen = upstream.requests.length;
    await new Promise((r) => setTimeout(r, 4000));
    expect(upstream.requests.length).toBe(seen);
    const final = await waitFor('usage to settle', async () => {
      const s = await factory.get(name);
      return s.status?.usage?.reservedUsd === '0.000000' && s.status.usage.totalCalls === seen && s;
    }, 30_000);
    expect(parseUsd(final.status!.usage!.costTodayUsd!)).toBeLessThanOrEqual(parseUsd('3.00'));
    expect(final.status?.phase).toBe('Running');
  });

  it('lets exactly five of fifty concurrent calls through on a budget that fits five', async () => {
    const factory = await factoryWith([]);
    // Slow enough that all fifty are in flight before any settles.
    const upstream = await fixtures.start({ apiKey: 'sk-race', latencyMs: 1500, reply: () => ({ content: 'ok', inputTokens: 10, outputTokens: 10 }) });
    const p: MockProvider = { name: uniqueName('racy'), type: 'openai', baseURL: `${upstream.url}/v1`, key: 'sk-race', input: '1.00', output: '1000.00' };
    await applyProvider(factory, p);
    const name = uniqueName('racer');
    // Suspended: the pipeline starts nothing, the test drives the gateway itself with an attempt's token.
    await apply([factory.manifest(name, {
      displayName: 'Racer', suspend: true, ai: { providers: [p.name], quota: { callsPerHour: 1000, costPerDay: '5.01' } },
      pipeline: { tasks: [{ name: 'market-research', type: 'research' }] },
    })]);
    const startup = await waitFor('provisioned', async () => { const s = await factory.get(name); return isProvisioned(s) && s; }, 60_000);
    const token = await factory.operator.keyring!.mint(await suspendedAttemptJob(factory, startup, 'market-research'));
    const client = new OpenAI({ apiKey: token, baseURL: `${factory.operator.gateway!.url()}/providers/${p.name}/v1`, maxRetries: 0 });
    // Each call may cost up to ~1 USD (1000 output tokens at 1000 USD per million, plus a few input bytes).
    const results = await Promise.allSettled(Array.from({ length: 50 }, () =>
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1000 })));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(upstream.requests).toHaveLength(5);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ status: 402 });
    expect(upstream.maxInFlight).toBe(5);
    const settled = await waitFor('usage to settle', async () => {
      const s = await factory.get(name);
      return s.status?.usage?.totalCalls === 5 && s.status.usage.reservedUsd === '0.000000' && s;
    }, 30_000);
    expect(settled.status?.usage?.totalCostUsd).toBe('0.050050');
  });

  it('pauses at callsPerHour and resumes by itself when the hour turns, until the pipeline is done', async () => {
    const clock = new ShiftedClock();
    // No Lease: it is renewed on the operator's clock, which this test moves by hours.
    const factory = await factoryWith(['--leader-elect=false'], clock);
    const offline = uniqueName('offline');
    await applyProvider(factory, { name: offline, type: 'offline' });
    const name = uniqueName('hourly');
    await apply([factory.manifest(name, { displayName: 'Hourly', ai: { providers: [offline], quota: { callsPerHour: 4, costPerDay: '0' } } })]);
    let pauses = 0;
    let done: Startup | undefined;
    for (let round = 0; round < 10 && !done; round++) {
      const s = await waitFor('a pause or the end', async () => {
        const st = await factory.get(name);
        const paused = condition(st, 'BudgetExceeded')?.status === 'True' && condition(st, 'PipelineSucceeded')?.reason === 'BudgetExceeded'
          && !st.status?.tasks?.some((t) => t.phase === 'Running');
        return (paused || st.status?.phase === 'Succeeded' || st.status?.phase === 'Failed') && st;
      }, 120_000, 500);
      if (s.status?.phase !== 'Running') {
        done = s;
        break;
      }
      pauses++;
      expect(condition(s, 'BudgetExceeded')).toMatchObject({ reason: 'CallsPerHourExceeded', message: expect.stringMatching(/resets at \S+:00:00Z/) });
      expect(s.status?.usage?.callsThisHour).toBeLessThanOrEqual(4);
      expect(s.status?.tasks?.some((t) => t.phase === 'Failed')).toBe(false);
      clock.advance(3_600_000);
    }
    expect(done?.status?.phase).toBe('Succeeded');
    expect(pauses).toBeGreaterThanOrEqual(2);
    const final = await waitFor('usage to settle', async () => {
      const s = await factory.get(name);
      return s.status?.usage?.totalCalls === s.status?.tasks?.length && s;
    }, 30_000);
    expect(condition(final, 'BudgetExceeded')?.status).toBe('False');
  });
});
