import { describe, expect, it } from 'vitest';
import { mulberry32, normal, type Rng } from '../lib/random.ts';
import type { Prices } from '../api/money.ts';
import { DEFAULT_ROUTING_POLICY, rankProviders, type RouteOption, type RoutingPolicy } from './routing.ts';
import { recordSample, type TaskStats } from './stats.ts';

const policy = DEFAULT_ROUTING_POLICY;
const t0 = Date.parse('2026-03-01T00:00:00Z');
const perM = (input: number, output: number): Prices => ({ inputMicrosPerMillion: input * 1_000_000, outputMicrosPerMillion: output * 1_000_000 });

type Mock = { name: string; prices: Prices; quality: number };
const premium: Mock = { name: 'premium', prices: perM(5, 15), quality: 0.9 };
const balanced: Mock = { name: 'balanced', prices: perM(1, 3), quality: 0.87 };
const budget: Mock = { name: 'budget', prices: perM(0.1, 0.3), quality: 0.6 };

/** Routes `tasks` research tasks a minute apart, each choice measured and recorded; returns the choices. */
function run(mocks: readonly Mock[], tasks: number, rng: Rng, evidence = new Map<string, TaskStats>(), start = t0): string[] {
  const world = mulberry32(99);
  const choices: string[] = [];
  for (let i = 0; i < tasks; i++) {
    const now = start + i * 60_000;
    const options = mocks.map((m) => ({ name: m.name, prices: m.prices, stats: evidence.get(m.name) }));
    const first = rankProviders(options, 'research', rng, now, policy).order[0];
    const chosen = mocks.find((m) => m.name === first)!;
    const quality = Math.min(1, Math.max(0, chosen.quality + 0.05 * normal(world)));
    const costMicros = Math.round(2_000 * chosen.prices.inputMicrosPerMillion / 1e6 + 2_500 * chosen.prices.outputMicrosPerMillion / 1e6);
    evidence.set(chosen.name, recordSample(evidence.get(chosen.name), { success: true, quality, latencyMs: 3000, costMicros }, now, policy));
    choices.push(chosen.name);
  }
  return choices;
}

const share = (choices: readonly (string | undefined)[], name: string) => choices.filter((c) => c === name).length / choices.length;

/** Evidence of `calls` calls scoring `quality` (spread 0.05) at `costMicros` each, the last at `at`. */
function measured(quality: number, costMicros: number, calls = 40, at = t0): TaskStats {
  const rng = mulberry32(5);
  let stats: TaskStats | undefined;
  for (let k = calls - 1; k >= 0; k--) {
    stats = recordSample(stats, { success: true, quality: quality + 0.05 * normal(rng), latencyMs: 2000, costMicros }, at - k * 1000, policy);
  }
  return stats!;
}

describe('rankProviders', () => {
  it('converges on the provider with the most quality per dollar above the floor', () => {
    const choices = run([premium, balanced, budget], 400, mulberry32(1));
    const last = choices.slice(-150);
    expect(share(last, 'balanced')).toBeGreaterThan(0.75);
    expect(share(last, 'budget')).toBeLessThan(0.05);
    // Every provider was tried: nothing was judged unmeasured.
    expect(new Set(choices.slice(0, 50))).toEqual(new Set(['premium', 'balanced', 'budget']));
  });

  it('follows a provider that gets worse within a few dozen of its calls', () => {
    const evidence = new Map<string, TaskStats>();
    const before = run([premium, balanced, budget], 400, mulberry32(2), evidence);
    expect(share(before.slice(-100), 'balanced')).toBeGreaterThan(0.9);
    const after = run([premium, { ...balanced, quality: 0.6 }, budget], 100, mulberry32(3), evidence, t0 + 400 * 60_000);
    // Plain means (no decay) still send about half of these to balanced.
    expect(share(after.slice(30), 'balanced')).toBeLessThan(0.15);
    expect(share(after.slice(30), 'premium')).toBeGreaterThan(0.8);
  });

  it('tries a provider nothing is known of, priced from what the others cost', () => {
    const known: RouteOption[] = [
      { name: 'balanced', prices: perM(1, 3), stats: measured(0.87, 19_000) },
      { name: 'premium', prices: perM(5, 15), stats: measured(0.9, 95_000) },
    ];
    const newcomer: RouteOption = { name: 'newcomer', prices: perM(0.5, 1.5) };
    const rng = mulberry32(4);
    const firsts = Array.from({ length: 20 }, () => rankProviders([...known, newcomer], 'research', rng, t0, policy).order[0]);
    expect(firsts.filter((f) => f === 'newcomer').length).toBeGreaterThan(5);
    // The others' calls cost twice their typical-token price (2,000 in, 2,500 out): the newcomer's
    // 4,750 becomes 9,500, over the prior's success rate of 0.9.
    expect(rankProviders([...known, newcomer], 'research', rng, t0, policy).costMicros.newcomer).toBe(Math.round(9_500 / 0.9));
  });

  it('measures again a provider whose evidence time has faded, and leaves a well-known one to the draws', () => {
    const always: RoutingPolicy = { ...policy, exploreRate: 1 };
    const poor = measured(0.5, 500, 40, t0 - 30 * 86_400_000);
    const options: RouteOption[] = [
      { name: 'balanced', prices: perM(1, 3), stats: measured(0.87, 9_500) },
      { name: 'budget', prices: perM(0.1, 0.3), stats: poor },
    ];
    const faded = rankProviders(options, 'research', mulberry32(6), t0, always);
    expect(faded).toMatchObject({ explored: true, order: ['budget', 'balanced'] });
    const fresh = rankProviders([options[0]!, { ...options[1]!, stats: measured(0.5, 500) }], 'research', mulberry32(6), t0, always);
    expect(fresh).toMatchObject({ explored: false, order: ['balanced', 'budget'] });
  });

  it('lets quality win inside the margin when the prices are close, and the price when they are far apart', () => {
    const better = { name: 'better', prices: perM(1, 3), stats: measured(0.9, 10_000) };
    const firsts = (cheaperBy: number) => {
      const rng = mulberry32(7);
      const other = { name: 'cheaper', prices: perM(1, 3), stats: measured(0.86, Math.round(10_000 / cheaperBy)) };
      return Array.from({ length: 200 }, () => rankProviders([better, other], 'research', rng, t0, policy).order[0]);
    };
    expect(share(firsts(1.1), 'better')).toBeGreaterThan(0.8);
    expect(share(firsts(5), 'cheaper')).toBeGreaterThan(0.8);
  });

  it('never puts first a much cheaper provider well below the floor', () => {
    const rng = mulberry32(8);
    const options: RouteOption[] = [
      { name: 'good', prices: perM(1, 3), stats: measured(0.88, 9_500) },
      { name: 'poor', prices: perM(0.01, 0.03), stats: measured(0.6, 95) },
    ];
    const routes = Array.from({ length: 500 }, () => rankProviders(options, 'research', rng, t0, policy));
    expect(routes.filter((r) => r.order[0] === 'poor' && !r.explored)).toEqual([]);
    expect(routes.every((r) => r.order.length === 2 && new Set(r.order).size === 2)).toBe(true);
  });

  it('is deterministic for a seed, and indifferent to the order of the options', () => {
    const options: RouteOption[] = [
      { name: 'a', prices: perM(1, 3), stats: measured(0.85, 9_000, 5) },
      { name: 'b', prices: perM(2, 6), stats: measured(0.88, 18_000, 5) },
      { name: 'c', prices: perM(0.5, 1.5) },
    ];
    const routes = (opts: readonly RouteOption[], seed: number) => {
      const rng = mulberry32(seed);
      return Array.from({ length: 50 }, () => rankProviders(opts, 'spec', rng, t0, policy));
    };
    const first = routes(options, 9);
    expect(routes(options, 9)).toEqual(first);
    expect(routes([...options].reverse(), 9)).toEqual(first);
    expect(routes(options, 10).map((r) => r.order)).not.toEqual(first.map((r) => r.order));
  });

  it('answers with nothing for no option and with the one for one', () => {
    expect(rankProviders([], 'review', mulberry32(1), t0).order).toEqual([]);
    expect(rankProviders([{ name: 'only', prices: perM(0, 0) }], 'review', mulberry32(1), t0).order).toEqual(['only']);
  });
});
