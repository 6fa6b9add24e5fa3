/**
 * The budget race with the operator killed in the middle: fifty calls in flight for one
 * Startup on a budget that fits five, the operator (a process of its own) SIGKILLed at a
 * different moment each round and started again, every call retried by its client (the
 * official SDK's own retries, and a call again when one is cut mid-answer) until it is
 * answered or refused. Across the whole of each
 * round at most five calls reach the upstream, every version of the ledger the API
 * server held stays within the budget, and no call is billed twice: exactly the five
 * the budget fits are billed, once each.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUsd, type Startup } from '../../../src/api/index.ts';
import { formatUsd } from '../../../src/api/money.ts';
import { paths } from '../../../cluster/paths.ts';
import type { AiFixture } from '../../support/ai-fixture/server.ts';
import { uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, isProvisioned, startFactory, type TestFactory } from '../../support/factory.ts';
import { LedgerWatch, auditLedger, waitForSettled } from '../../support/ledger-audit.ts';
import { OperatorProcess } from '../../support/operator-process.ts';
import { Fixtures, operatorToken, startMockProvider, suspendedAttemptJob, type MockProvider } from '../../support/pipeline.ts';

let factory: TestFactory;
let operator: OperatorProcess;
let ledgers: LedgerWatch;
const fixtures = new Fixtures();

beforeAll(async () => {
  factory = await startFactory(['--leader-elect=false'], { external: true });
  operator = new OperatorProcess({ flags: factory.flags, gatewayPort: factory.gatewayPort, logFile: join(paths.logs, `test-${factory.namespace}-operator.log`) });
  await operator.start();
  ledgers = await LedgerWatch.start(factory.client, factory.namespace);
});

afterAll(async () => {
  await ledgers?.stop();
  await operator?.stop();
  await factory?.cleanup();
  await fixtures.close();
});

const CALLS = 50;
// Each call may cost 1000 output tokens at 1000 USD per million (1 USD) plus its input bytes
// at 1 USD per million: five fit in 5.01 USD, a sixth does not.
const QUOTA = { callsPerHour: 1000, costPerDay: '5.01' };
const FITS = 5;

/** What the round's upstream and ledger show: the kill waits for one of these. */
type View = { ledgerVersions: number; open: number; upstream: number; inFlight: number; answered: number };

type Round = { moment: string; latencyMs: number; killWhen: (v: View, sinceFiredMs: number) => boolean };

const EARLY_MS = randomInt(0, 60);
const ROUNDS: Round[] = [
  // Connections opening, tokens checked, the first ledger write on its way or not yet.
  { moment: `${EARLY_MS} ms after the calls were sent`, latencyMs: 3000, killWhen: (_v, ms) => ms >= EARLY_MS },
  { moment: 'once reservations are on record', latencyMs: 3000, killWhen: (v) => v.open > 0 },
  { moment: 'with five calls in flight upstream', latencyMs: 3000, killWhen: (v) => v.inFlight === FITS },
  // Answers relayed; their settlements linger 100 ms to share a write, so most die unwritten.
  { moment: 'right after the answers, before their settlements land', latencyMs: 300, killWhen: (v) => v.answered === FITS },
];

type Figures = { moment: string; caught: View; clientRetries: number; recalls: number; upstream: number; billed: number; answered: number; refused: number; costUsd: string; ledgerWrites: number; ms: number };

describe('fifty calls on a budget that fits five, with the operator SIGKILLed mid-race', () => {
  it(`never lets more than ${FITS} reach the upstream or bills any twice, whatever moment the kill comes at`, async () => {
    // Everything the rounds need is made first, together: a provider on a fixture of its own and a Startup each.
    const setups = await Promise.all(ROUNDS.map(async (round, i) => {
      const { fixture, provider } = await startMockProvider(factory, fixtures, {
        prefix: `race${i}`, type: 'openai', input: '1.00', output: '1000.00', latencyMs: round.latencyMs,
        reply: () => ({ content: 'ok', inputTokens: 10, outputTokens: 10 }),
      });
      const name = uniqueName(`race${i}`);
      // Suspended: the pipeline starts nothing; the test drives the gateway with an attempt's token.
      await apply([factory.manifest(name, {
        displayName: `Race ${i}`, suspend: true, ai: { providers: [provider.name], quota: QUOTA },
        pipeline: { tasks: [{ name: 'market-research', type: 'research' }] },
      })]);
      const startup = await waitFor(`${name} provisioned`, async () => { const s = await factory.get(name); return isProvisioned(s) && s; }, 90_000);
      return { round, fixture, provider, startup, token: await operatorToken(factory, await suspendedAttemptJob(factory, startup, 'market-research')) };
    }));

    const figures: Figures[] = [];
    for (const setup of setups) figures.push(await race(setup));
    console.table(figures.map(({ caught, ...f }) => ({ ...f, caught: `${caught.ledgerVersions} writes, ${caught.open} open, ${caught.upstream} upstream (${caught.inFlight} in flight, ${caught.answered} answered)` })));
    // The kill did cut calls that their clients then retried, in some round at least.
    expect(figures.reduce((n, f) => n + f.clientRetries, 0)).toBeGreaterThan(0);
    expect(operator.kills).toBe(ROUNDS.length);
  });
});

async function race(s: { round: Round; fixture: AiFixture; provider: MockProvider; startup: Startup; token: string }): Promise<Figures> {
  const { round, fixture: upstream, provider, startup } = s;
  const name = startup.metadata.name;
  const started = Date.now();
  let sent = 0;
  const client = new OpenAI({
    apiKey: s.token, baseURL: `http://127.0.0.1:${factory.gatewayPort}/providers/${provider.name}/v1`,
    // The SDK retries what a dead gateway leaves it (refused or reset connections) with its own backoff, up to ~40 s.
    maxRetries: 8, timeout: 30_000,
    fetch: (url: string | URL | Request, init?: RequestInit) => { sent++; return fetch(url, init); },
  });
  const view = (): View => {
    const latest = ledgers.latest(name);
    return {
      ledgerVersions: ledgers.history(name).length, open: Object.keys(latest?.open ?? {}).length,
      upstream: upstream.requests.length, inFlight: upstream.inFlight(), answered: upstream.requests.filter((r) => r.response?.complete).length,
    };
  };

  const fired = Date.now();
  // The SDK retries a call that fails before its answer starts; one cut during its answer (the
  // operator killed while relaying it) the client makes again itself, as a client that wants it would.
  let recalls = 0;
  const call = async (i: number) => {
    for (let tries = 1; ; tries++) {
      try {
        // Fifty different calls: identical ones would be answered from the gateway's cache once one is answered, free.
        return await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `hi ${i}` }], max_tokens: 1000 });
      } catch (err) {
        if ((err as { status?: number }).status !== undefined || tries >= 5) throw err;
        recalls++;
        await new Promise((r) => setTimeout(r, 500 * tries));
      }
    }
  };
  const calls = Promise.allSettled(Array.from({ length: CALLS }, (_, i) => call(i)));
  const caught = await waitFor(`the moment to kill: ${round.moment}`, async () => {
    const v = view();
    return round.killWhen(v, Date.now() - fired) && v;
  }, 30_000, 2);
  await operator.kill();
  await new Promise((r) => setTimeout(r, randomInt(200, 1000)));
  await operator.start();
  const results = await calls;

  // Every call ended answered or refused for the budget: none lost to the kill.
  const answered = results.filter((r) => r.status === 'fulfilled').length;
  const other = results.filter((r) => r.status === 'rejected' && (r.reason as { status?: number }).status !== 402);
  expect(other.map((r) => String((r as PromiseRejectedResult).reason)), round.moment).toEqual([]);
  expect(upstream.requests.length, round.moment).toBeLessThanOrEqual(FITS);
  expect(answered, round.moment).toBeLessThanOrEqual(upstream.requests.filter((r) => r.response?.complete).length);

  // The restarted operator charges what its predecessor left open; then the ledger is at rest.
  const settled = await waitForSettled(factory, ledgers, name);
  // Every version the API server held kept the budget and billed each reservation at most once.
  expect(auditLedger(ledgers.history(name), { callsPerHour: QUOTA.callsPerHour, costPerDayMicros: parseUsd(QUOTA.costPerDay) }), round.moment).toEqual([]);
  expect(ledgers.gaps).toBe(0);
  // Exactly the budget's worth is billed, once each: every call that reached the upstream among them,
  // plus any reserved by the killed operator that never left (charged at its reservation, never less).
  expect(settled.ledger.totals, round.moment).toMatchObject({ calls: FITS, cachedCalls: 0 });
  expect(settled.ledger.totals.calls).toBeGreaterThanOrEqual(upstream.requests.length);
  expect(settled.ledger.costMicros).toBeLessThanOrEqual(parseUsd(QUOTA.costPerDay));
  expect(parseUsd(settled.startup.status!.usage!.costTodayUsd!)).toBeLessThanOrEqual(parseUsd(QUOTA.costPerDay));
  return {
    moment: round.moment, caught, clientRetries: sent - CALLS, recalls, upstream: upstream.requests.length, billed: settled.ledger.totals.calls,
    answered, refused: results.length - answered, costUsd: formatUsd(settled.ledger.totals.costMicros),
    ledgerWrites: ledgers.history(name).length, ms: Date.now() - started,
  };
}
