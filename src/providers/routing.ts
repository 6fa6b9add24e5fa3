import type { TaskType } from '../api/index.ts';
import { tokenCostMicros, type Prices } from '../api/money.ts';
import { beta, type Rng } from '../lib/random.ts';
import { DEFAULT_STATS_POLICY, decayedWeight, type StatsPolicy, type TaskStats } from './stats.ts';

/** A Ready provider the task may use, with what was measured of it on the task's type (none yet: undefined). */
export type RouteOption = { name: string; prices: Prices; stats?: TaskStats | undefined };

export type RoutingPolicy = StatsPolicy & {
  /** A provider whose drawn quality is more than this fraction below the best draw is not considered. */
  qualityMargin: number;
  /**
   * How much quality a price multiple must bring: among the providers within the
   * margin, the one with the highest quality / cost^priceElasticity wins. At 0.1,
   * twice the price is worth 7% more quality, five times the price 17%.
   */
  priceElasticity: number;
  /**
   * Share of decisions that try the provider known least, whatever the draws say, while
   * its evidence is worth fewer than `exploreBelowWeight` calls: a provider the draws
   * stopped picking is measured again once time has faded what was known of it, and one
   * measured enough is left to the draws.
   */
  exploreRate: number;
  exploreBelowWeight: number;
  /**
   * What an unmeasured provider is believed to be, and how many calls that belief is
   * worth: optimistic, so a new provider is tried soon, and light, so a few calls
   * overrule it. Time decay brings an idle provider back to it. Rates strictly between
   * 0 and 1, weight above 0.
   */
  prior: { quality: number; successRate: number; weight: number };
  /** Tokens of a typical call per task type, to price a provider no call has measured yet. */
  typicalTokens: Record<TaskType, { input: number; output: number }>;
};

/**
 * The defaults, and why (bench/routing.ts measures them: at least 95% of the best fixed
 * provider's quality at no more than half its cost, on six seeds):
 *
 * - The margin is 7%, looser than the 5% quality the goal gives up. A margin at the
 *   goal's own bar makes a provider that is truly 96-97% as good (the usual "balanced"
 *   model) a coin toss, since a few dozen calls cannot tell 96% from 94%, and every toss
 *   lost pays the premium provider's price. The elasticity, not the margin, decides
 *   among the good-enough: a provider five times the price must be 17% better, which
 *   no provider inside a 7% margin is, so close calls go to the cheaper one firmly.
 *   Inside the margin a price close to another's lets quality win.
 * - The evidence's memory is DEFAULT_STATS_POLICY's, which the recorder uses too: the
 *   decay must be the same where evidence is written and where it is read.
 */
export const DEFAULT_ROUTING_POLICY: RoutingPolicy = {
  ...DEFAULT_STATS_POLICY,
  qualityMargin: 0.07,
  priceElasticity: 0.1,
  exploreRate: 0.02,
  exploreBelowWeight: 5,
  prior: { quality: 0.9, successRate: 0.9, weight: 1 },
  typicalTokens: {
    research: { input: 2_000, output: 2_500 },
    analysis: { input: 3_000, output: 2_000 },
    spec: { input: 4_000, output: 3_000 },
    architecture: { input: 4_000, output: 3_000 },
    decompose: { input: 4_000, output: 2_000 },
    codegen: { input: 5_000, output: 6_000 },
    review: { input: 6_000, output: 1_500 },
  },
};

/** The providers in the order to try them (the choice first, then the fallbacks), and why. */
export type Route = {
  order: string[];
  /** The first was forced, to measure it again, not drawn. */
  explored: boolean;
  /** The quality drawn for each provider. */
  sampled: Record<string, number>;
  /** The expected cost of a successful call of each provider, micro-USD. */
  costMicros: Record<string, number>;
};

type Candidate = { name: string; weight: number; quality: number; cost: number; value: number; latency: number };

/**
 * Thompson sampling for quality per dollar. Each provider's quality is drawn from a
 * Beta posterior over its decayed evidence; the providers whose draw is within
 * `qualityMargin` of the best draw are good enough, and of those the one with the most
 * quality per dollar^priceElasticity wins (latency breaking ties). Each later place is
 * the same choice among the providers left, so the fallbacks are the next best.
 *
 * Why not quality / cost itself: it would send everything to a provider at 60% of the
 * quality for a tenth of the price. The margin is the floor on quality; the elasticity
 * prices quality above it. Drawing instead of comparing means lets an uncertain
 * provider win now and then, as often as it may in fact be the best, which is all the
 * exploration a measured provider needs; decayed evidence keeps that chance open for
 * one that changed or was long left alone, and the forced `exploreRate` covers one the
 * draws would never pick.
 *
 * The posterior has the evidence's mean and the spread of its scores (a call's score is
 * in [0, 1], a failed call's 0), not the widest spread a mean in [0, 1] allows, which
 * is what counting each score as that fraction of a success would give: the scores of
 * a real provider spread far less than all-or-nothing, and the wider posterior kept
 * sending a fifth of the calls to a provider five times the price for 3% more quality.
 * The prior joins both as one more call of its own, so a provider measured once is not
 * yet its one call.
 *
 * Pure and synchronous: the same options, rng state and time give the same route,
 * whatever order the options come in.
 */
export function rankProviders(options: readonly RouteOption[], taskType: TaskType, rng: Rng, now: number, policy: RoutingPolicy = DEFAULT_ROUTING_POLICY): Route {
  const sorted = [...options].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const route: Route = { order: [], explored: false, sampled: {}, costMicros: {} };
  if (sorted.length === 0) return route;
  const { prior } = policy;
  const tokens = policy.typicalTokens[taskType];
  const weights = sorted.map((o) => decayedWeight(o.stats, now, policy));
  const least = Math.min(...weights);
  const explore = sorted.length > 1 && rng() < policy.exploreRate && least < policy.exploreBelowWeight;
  const listed = sorted.map((o) => tokenCostMicros(tokens.input, o.prices.inputMicrosPerMillion) + tokenCostMicros(tokens.output, o.prices.outputMicrosPerMillion));
  const calibration = priceCalibration(sorted, weights, listed);

  const candidates: Candidate[] = sorted.map((o, i) => {
    const w = weights[i]!;
    const s = o.stats;
    const blend = (measured: number, assumed: number) => (w * measured + prior.weight * assumed) / (w + prior.weight);
    const mean = blend(s?.meanQuality ?? 0, prior.quality);
    const widest = mean * (1 - mean);
    const spread = blend(s ? Math.max(0, s.meanQualitySquared - s.meanQuality ** 2) : 0, widest);
    // Beta(mean·n, (1 - mean)·n) has that mean and a variance of about spread / (w + prior.weight).
    const n = ((w + prior.weight) * widest) / spread;
    const quality = beta(rng, mean * n, (1 - mean) * n);
    const cost = Math.round(blend(s?.meanCostMicros ?? 0, listed[i]! * calibration) / blend(s?.successRate ?? 0, prior.successRate));
    route.sampled[o.name] = quality;
    route.costMicros[o.name] = cost;
    // A free provider counts as costing one micro-dollar, so the logarithm stays finite.
    const value = Math.log(quality) - policy.priceElasticity * Math.log(Math.max(1, cost));
    return { name: o.name, weight: w, quality, cost, value, latency: s ? s.meanLatencyMs : Infinity };
  });

  const left = [...candidates];
  while (left.length > 0) {
    let best = 0;
    for (const c of left) best = Math.max(best, c.quality);
    let pick: Candidate | undefined;
    for (const c of left) {
      if (c.quality < (1 - policy.qualityMargin) * best) continue;
      if (!pick || c.value > pick.value || (c.value === pick.value && c.latency < pick.latency)) pick = c;
    }
    left.splice(left.indexOf(pick!), 1);
    route.order.push(pick!.name);
  }

  if (explore) {
    // The least-known provider (the best ranked of those), the rest in their order.
    const first = route.order.find((n) => candidates.find((c) => c.name === n)!.weight === least)!;
    route.order = [first, ...route.order.filter((n) => n !== first)];
    route.explored = true;
  }
  return route;
}

/**
 * How real calls of this type compare with the typical-token price: measured mean cost
 * over listed price, across the measured providers, by their evidence. An unmeasured
 * provider's listed price times this is what the others' calls would have cost at its
 * prices, a better guess than the typical tokens alone; 1 when nothing is measured.
 */
function priceCalibration(options: readonly RouteOption[], weights: readonly number[], listed: readonly number[]): number {
  let measured = 0;
  let expected = 0;
  options.forEach((o, i) => {
    if (!o.stats || listed[i]! <= 0) return;
    measured += weights[i]! * o.stats.meanCostMicros;
    expected += weights[i]! * listed[i]!;
  });
  return expected > 0 ? measured / expected : 1;
}
