import { TASK_TYPES, formatUsd, parseUsd, type AIProviderStatus, type TaskType } from '../api/index.ts';
import { toKubeTime } from '../api/conditions.ts';

/** One call as the learning engine counts it. */
export type Sample = {
  success: boolean;
  /** Rubric score 0 to 1; a failed call scores 0 whatever is passed. */
  quality: number;
  latencyMs: number;
  /** What the call cost, integer micro-USD. */
  costMicros: number;
};

/**
 * What is known of one provider on one task type. The means are exponentially decayed:
 * a new call weighs 1 and every older one less (per call that followed, and per time
 * passed), so the figures follow a provider that gets worse instead of averaging its
 * past in forever, and a provider left alone loses its evidence and gets measured again.
 */
export type TaskStats = {
  /** Calls measured, all time. */
  samples: number;
  /** The evidence the means carry, in calls (the decayed sum of the samples' weights) as of `updatedAt`. */
  weight: number;
  successRate: number;
  meanQuality: number;
  /** The decayed mean of the squared scores: with meanQuality, how much the scores spread. */
  meanQualitySquared: number;
  meanLatencyMs: number;
  /**
   * Micro-USD, fractional: an estimate, never an amount charged. Rounding it at every
   * update would stall it (a cheap provider's calls cost a few micro-dollars, and a step
   * below half of one would never move the mean); it is rounded to a whole micro-dollar
   * only on the wire.
   */
  meanCostMicros: number;
  /** Epoch ms of the latest sample. */
  updatedAt: number;
};

export type StatsPolicy = {
  /** Evidence loses half its weight in this time: an idle provider is measured again sooner than never. */
  halfLifeMs: number;
  /**
   * Each new call multiplies the weight of those before it by this: the means remember
   * about 1 / (1 - sampleDecay) calls, which bounds how long a provider that got worse
   * rides on its past. Busy providers are followed by calls, idle ones by time.
   */
  sampleDecay: number;
};

/**
 * About 33 calls of memory: a provider that gets worse is dropped within a few dozen of
 * its calls (bench/routing.ts shows it); more memory would make the estimates steadier
 * and the dropping slower. Three days of half-life: a provider nobody chose for a week
 * is back to little more than the router's optimistic prior, and gets tried again.
 */
export const DEFAULT_STATS_POLICY: StatsPolicy = { halfLifeMs: 3 * 86_400_000, sampleDecay: 0.97 };

/** The weight of the evidence at `now`: its weight at the last sample, decayed for the time since. */
export function decayedWeight(stats: TaskStats | undefined, now: number, policy: StatsPolicy): number {
  if (!stats) return 0;
  return stats.weight * 0.5 ** (Math.max(0, now - stats.updatedAt) / policy.halfLifeMs);
}

/** The evidence after one more call: the previous means, discounted, moved toward the sample. */
export function recordSample(previous: TaskStats | undefined, sample: Sample, now: number, policy: StatsPolicy): TaskStats {
  if (!Number.isSafeInteger(sample.costMicros) || sample.costMicros < 0) throw new Error(`${sample.costMicros} is not an amount of micro-USD`);
  const quality = sample.success ? Math.min(1, Math.max(0, sample.quality)) : 0;
  const kept = decayedWeight(previous, now, policy) * policy.sampleDecay;
  const weight = kept + 1;
  // (old · kept + new) / weight, written as a step so a first sample (kept 0) is the mean.
  const step = (old: number, value: number) => old + (value - old) / weight;
  return {
    samples: (previous?.samples ?? 0) + 1,
    weight,
    successRate: step(previous?.successRate ?? 0, sample.success ? 1 : 0),
    meanQuality: step(previous?.meanQuality ?? 0, quality),
    meanQualitySquared: step(previous?.meanQualitySquared ?? 0, quality * quality),
    meanLatencyMs: step(previous?.meanLatencyMs ?? 0, Math.max(0, sample.latencyMs)),
    meanCostMicros: step(previous?.meanCostMicros ?? 0, sample.costMicros),
    updatedAt: Math.max(previous?.updatedAt ?? now, now),
  };
}

export type ApiTaskStats = NonNullable<AIProviderStatus['stats']>[number];

/** Six decimals: far below what moves a decision, and a value that reads back as written. */
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The API shape of one task type's evidence (`AIProvider.status.stats[]`). */
export function toApiStats(taskType: TaskType, stats: TaskStats): ApiTaskStats {
  return {
    taskType,
    samples: stats.samples,
    weight: round6(stats.weight),
    successRate: round6(stats.successRate),
    meanQuality: round6(stats.meanQuality),
    qualityStdDev: round6(Math.sqrt(Math.max(0, stats.meanQualitySquared - stats.meanQuality ** 2))),
    meanLatencyMs: Math.round(stats.meanLatencyMs),
    meanCostUsd: formatUsd(Math.round(stats.meanCostMicros)),
    updatedAt: toKubeTime(new Date(stats.updatedAt)),
  };
}

/**
 * The evidence of one `status.stats[]` entry. Figures written without a weight count as
 * many calls as they claim; without updatedAt, as old as can be (their weight decays to
 * nothing and the provider is measured afresh).
 */
export function fromApiStats(api: ApiTaskStats): TaskStats {
  return {
    samples: api.samples,
    weight: api.weight ?? api.samples,
    successRate: api.successRate,
    meanQuality: api.meanQuality,
    // Absent, the widest spread scores in [0, 1] can have around that mean (all 0 or 1).
    meanQualitySquared: api.qualityStdDev === undefined ? api.meanQuality : api.qualityStdDev ** 2 + api.meanQuality ** 2,
    meanLatencyMs: api.meanLatencyMs,
    meanCostMicros: parseUsd(api.meanCostUsd),
    updatedAt: api.updatedAt ? Date.parse(api.updatedAt) : 0,
  };
}

/** A provider's evidence per task type, from its status. */
export function statsByType(status: AIProviderStatus | undefined): Map<TaskType, TaskStats> {
  return new Map((status?.stats ?? []).map((s) => [s.taskType, fromApiStats(s)]));
}

/** `status.stats` from a provider's evidence per task type, in a fixed order so equal evidence is an equal list. */
export function statsList(byType: ReadonlyMap<TaskType, TaskStats>): ApiTaskStats[] {
  return TASK_TYPES.flatMap((t) => {
    const stats = byType.get(t);
    return stats ? [toApiStats(t, stats)] : [];
  });
}
