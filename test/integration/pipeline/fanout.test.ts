/**
 * Fan-out and parallelism under the default limits: a decompose's work items become
 * codegen-0..n-1, run side by side no more than the per-startup limit allows; and several
 * startups' tasks run at once, at least 15 calls in flight across them (the original
 * plan's gate), never more than the factory's limit, never more than 4 for one startup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validOutput, taskTypeOf } from '../../support/ai-fixture/replies.ts';
import type { FixtureRequest } from '../../support/ai-fixture/server.ts';
import { uniqueName } from '../../support/cluster.ts';
import { apply, startFactory, type TestFactory } from '../../support/factory.ts';
import { Fixtures, startMockProvider, waitForPhase } from '../../support/pipeline.ts';

let factory: TestFactory;
const fixtures = new Fixtures();

beforeAll(async () => {
  // The task limits are the defaults; the capacity is not this machine's, which fits four startups' quotas.
  factory = await startFactory(['--capacity-cpu', '64', '--capacity-memory', '256Gi']);
});

afterAll(async () => {
  await factory?.cleanup();
  await fixtures.close();
});

const ITEMS = 8;

/** A decompose answer with ITEMS work items (a model's may have up to 16), other types as usual. */
function manyItems(req: FixtureRequest) {
  const reply = validOutput(req);
  if (taskTypeOf(req) !== 'decompose') return reply;
  const [first] = JSON.parse(reply.content).workItems;
  const workItems = Array.from({ length: ITEMS }, (_, i) => ({
    ...first, id: `wi-${i + 1}`, title: `Feature ${i + 1}`, files: [`frontend/app/feature-${i + 1}/page.tsx`],
  }));
  return { ...reply, content: JSON.stringify({ workItems }) };
}

/** Calls in flight per startup (told apart by the display name in the system prompt), at their peak. */
class PerStartup {
  readonly peak = new Map<string, number>();
  readonly #now = new Map<string, number>();
  readonly #of = new Map<number, string>();

  arrived(req: FixtureRequest): undefined {
    const system = String(req.body?.messages?.[0]?.content ?? '');
    const name = /building the startup "([^"]+)"/.exec(system)?.[1] ?? '?';
    this.#of.set(req.index, name);
    const n = (this.#now.get(name) ?? 0) + 1;
    this.#now.set(name, n);
    this.peak.set(name, Math.max(this.peak.get(name) ?? 0, n));
    return undefined;
  }

  answered(req: FixtureRequest): void {
    const name = this.#of.get(req.index)!;
    this.#now.set(name, this.#now.get(name)! - 1);
  }
}

function mockProvider(prefix: string, reply: (req: FixtureRequest) => ReturnType<typeof validOutput>, latencyMs: number, track: PerStartup) {
  return startMockProvider(factory, fixtures, {
    prefix, type: 'openai', input: '0.10', output: '0.40', latencyMs, extra: { maxConcurrency: 100 },
    fault: (req) => track.arrived(req), reply: (req) => { track.answered(req); return reply(req); },
  });
}

describe('fan-out and parallelism', () => {
  it('fans codegen out over the work items, running no more at once than the per-startup limit', async () => {
    const track = new PerStartup();
    const { fixture, provider } = await mockProvider('fan', manyItems, 1_500, track);
    const name = uniqueName('fan');
    await apply([factory.manifest(name, {
      displayName: 'Fan Co', ai: { providers: [provider.name] },
      pipeline: { tasks: [
        { name: 'decompose', type: 'decompose' },
        { name: 'codegen', type: 'codegen', dependsOn: ['decompose'], forEach: 'decompose' },
        { name: 'review', type: 'review', dependsOn: ['codegen'] },
      ] },
    })]);
    const done = await waitForPhase(factory, name, ['Succeeded', 'Failed']);
    expect(done.status?.phase, JSON.stringify(done.status?.conditions)).toBe('Succeeded');
    const names = done.status!.tasks!.map((t) => t.name);
    expect(names).toEqual(['decompose', ...Array.from({ length: ITEMS }, (_, i) => `codegen-${i}`), 'review']);
    expect(done.status?.progress).toBe(`${ITEMS + 2}/${ITEMS + 2}`);
    // Side by side, but never more than --max-tasks-per-startup (4).
    expect(fixture.maxInFlight).toBeLessThanOrEqual(4);
    expect(fixture.maxInFlight).toBeGreaterThanOrEqual(3);
    // The review saw every item's code.
    const review = fixture.requests.find((r) => taskTypeOf(r) === 'review')!;
    for (let i = 0; i < ITEMS; i++) expect(JSON.stringify(review.body.messages)).toContain(`## codegen-${i} (codegen)`);
  });

  it('runs at least 15 tasks at once across startups with the default limits, at most 4 of any one', async () => {
    const track = new PerStartup();
    const { fixture, provider } = await mockProvider('wide', validOutput, 8_000, track);
    const startups = Array.from({ length: 5 }, (_, i) => uniqueName(`wide${i}`));
    await apply(startups.map((name, i) => factory.manifest(name, {
      displayName: `Wide ${i}`, ai: { providers: [provider.name] },
      // Five independent tasks each: more than a startup may run at once.
      pipeline: { tasks: ['a', 'b', 'c', 'd', 'e'].map((t) => ({ name: `research-${t}`, type: 'research' as const })) },
    })));
    for (const name of startups) {
      const done = await waitForPhase(factory, name, ['Succeeded', 'Failed']);
      expect(done.status?.phase, JSON.stringify(done.status?.conditions)).toBe('Succeeded');
    }
    expect(fixture.requests).toHaveLength(25);
    expect(fixture.maxInFlight).toBeGreaterThanOrEqual(15);
    expect(fixture.maxInFlight).toBeLessThanOrEqual(20);
    expect(track.peak.size).toBe(5);
    for (const [name, peak] of track.peak) expect(peak, name).toBeLessThanOrEqual(4);
  });
});
