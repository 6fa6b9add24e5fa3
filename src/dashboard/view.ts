import { formatUsd, parseUsd, parseStartupSpec, type AIProvider, type Startup, type StartupTemplate } from '../api/index.ts';
import { getCondition } from '../api/conditions.ts';
import { pipelineOf, taskDefinition } from '../pipeline/dag.ts';

/** One task as the dashboard draws it: its column in the DAG is `level`. */
export type TaskView = {
  name: string;
  type: string;
  phase: string;
  level: number;
  provider?: string;
  model?: string;
  quality?: number;
  attempts?: number;
  startedAt?: string;
  finishedAt?: string;
  costUsd?: string;
  calls?: number;
  cachedCalls?: number;
  reason?: string;
};

export type ConditionView = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string };

/**
 * A Startup as the overview shows it, built only from what the informers hold: no viewer
 * ever causes an API request. Money stays a decimal string.
 */
export type StartupView = {
  name: string;
  uid: string;
  displayName: string;
  industry: string;
  category: string;
  template: string;
  phase: string;
  priority: number;
  suspended: boolean;
  deleting: boolean;
  createdAt?: string;
  startedAt?: string;
  completedAt?: string;
  ready: ConditionView | undefined;
  progress: { succeeded: number; total: number };
  cost: { todayUsd: string; limitUsd: string; totalUsd: string; reservedUsd: string };
  calls: { thisHour: number; limit: number; total: number; cached: number };
  tokens: { input: number; output: number };
  tasks: TaskView[];
};

const ZERO = formatUsd(0);

/**
 * `startup` projected for the dashboard at `now`. The usage windows are the gateway's, and
 * a window that has passed counts nothing: yesterday's spend is not today's, even before
 * the ledger writes the new day.
 */
export function startupView(startup: Startup, template: StartupTemplate | undefined, now: Date): StartupView {
  const parsed = parseStartupSpec(startup.spec);
  const spec = parsed.success ? parsed.data : undefined;
  const status = startup.status ?? {};
  const usage = status.usage ?? {};
  const today = now.toISOString().slice(0, 10);
  const hour = Math.floor(now.getTime() / 3_600_000);
  const usageHour = usage.hourStartedAt ? Math.floor(Date.parse(usage.hourStartedAt) / 3_600_000) : undefined;
  const definitions = spec ? pipelineOf(spec, template)?.tasks ?? [] : [];
  const levels = taskLevels(definitions);
  const tasks = (status.tasks ?? []).map((t): TaskView => {
    const definition = taskDefinition(definitions, t.name);
    return {
      name: t.name, type: t.type, phase: t.phase, level: (definition && levels.get(definition.name)) ?? 0,
      ...(t.provider ? { provider: t.provider } : {}),
      ...(t.model ? { model: t.model } : {}),
      ...(t.quality !== undefined ? { quality: t.quality } : {}),
      ...(t.attempts !== undefined ? { attempts: t.attempts } : {}),
      ...(t.startedAt ? { startedAt: t.startedAt } : {}),
      ...(t.finishedAt ? { finishedAt: t.finishedAt } : {}),
      ...(t.usage?.costUsd ? { costUsd: t.usage.costUsd } : {}),
      ...(t.usage?.calls !== undefined ? { calls: t.usage.calls } : {}),
      ...(t.usage?.cachedCalls !== undefined ? { cachedCalls: t.usage.cachedCalls } : {}),
      ...(t.reason ? { reason: t.reason } : {}),
    };
  });
  const ready = getCondition(status.conditions, 'Ready');
  return {
    name: startup.metadata.name,
    uid: startup.metadata.uid ?? '',
    displayName: spec?.displayName ?? String((startup.spec as { displayName?: unknown } | undefined)?.displayName ?? startup.metadata.name),
    industry: spec?.industry ?? '',
    category: spec?.category ?? '',
    template: spec?.template ?? '',
    phase: status.phase ?? 'Pending',
    priority: spec?.priority ?? 0,
    suspended: spec?.suspend ?? false,
    deleting: Boolean(startup.metadata.deletionTimestamp),
    ...(startup.metadata.creationTimestamp ? { createdAt: iso(startup.metadata.creationTimestamp) } : {}),
    ...(status.startedAt ? { startedAt: status.startedAt } : {}),
    ...(status.completedAt ? { completedAt: status.completedAt } : {}),
    ready: ready && conditionView(ready),
    progress: { succeeded: tasks.filter((t) => t.phase === 'Succeeded').length, total: tasks.length },
    cost: {
      todayUsd: usage.day === today ? usage.costTodayUsd ?? ZERO : ZERO,
      limitUsd: formatUsd(parseUsd(spec?.ai.quota.costPerDay ?? ZERO)),
      totalUsd: usage.totalCostUsd ?? ZERO,
      reservedUsd: usage.reservedUsd ?? ZERO,
    },
    calls: {
      thisHour: usageHour === hour ? usage.callsThisHour ?? 0 : 0,
      limit: spec?.ai.quota.callsPerHour ?? 0,
      total: usage.totalCalls ?? 0,
      cached: usage.totalCachedCalls ?? 0,
    },
    tokens: { input: usage.totalInputTokens ?? 0, output: usage.totalOutputTokens ?? 0 },
    tasks,
  };
}

/** Our client hands timestamps over as the API's strings, whatever the generated types say. */
function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

export function conditionView(c: { type: string; status: string; reason?: string | undefined; message?: string | undefined; lastTransitionTime?: string | undefined }): ConditionView {
  return {
    type: c.type, status: c.status,
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.message ? { message: c.message } : {}),
    ...(c.lastTransitionTime ? { lastTransitionTime: c.lastTransitionTime } : {}),
  };
}

/** Each pipeline task's depth in the DAG: 0 for those that depend on nothing. */
export function taskLevels(tasks: readonly { name: string; dependsOn: readonly string[] }[]): Map<string, number> {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const levels = new Map<string, number>();
  const visiting = new Set<string>();
  const level = (name: string): number => {
    const known = levels.get(name);
    if (known !== undefined) return known;
    const task = byName.get(name);
    // A dangling or cyclic reference (the API refuses both) adds no depth rather than looping.
    if (!task || visiting.has(name)) return -1;
    visiting.add(name);
    const depth = 1 + Math.max(-1, ...task.dependsOn.map(level));
    visiting.delete(name);
    levels.set(name, depth);
    return depth;
  };
  for (const t of tasks) level(t.name);
  return levels;
}

export type ProviderStatsView = {
  taskType: string;
  samples: number;
  successRate: number;
  meanQuality: number;
  meanLatencyMs: number;
  meanCostUsd: string;
  updatedAt?: string;
};

export type ProviderView = {
  name: string;
  type: string;
  model: string;
  maxConcurrency: number;
  pricing: { inputPerMillionUsd: string; outputPerMillionUsd: string };
  ready: ConditionView | undefined;
  stats: ProviderStatsView[];
};

/** What a provider is and what the learning engine measured of it. Its key's Secret is not named here. */
export function providerView(provider: AIProvider): ProviderView {
  const spec = (provider.spec ?? {}) as Partial<NonNullable<AIProvider['spec']>>;
  const ready = getCondition(provider.status?.conditions, 'Ready');
  return {
    name: provider.metadata.name,
    type: String(spec.type ?? ''),
    model: String(spec.model ?? ''),
    maxConcurrency: Number(spec.maxConcurrency ?? 0),
    pricing: {
      inputPerMillionUsd: String(spec.pricing?.inputPerMillionTokens ?? ZERO),
      outputPerMillionUsd: String(spec.pricing?.outputPerMillionTokens ?? ZERO),
    },
    ready: ready && conditionView(ready),
    stats: (provider.status?.stats ?? []).map((s) => ({
      taskType: s.taskType, samples: s.samples, successRate: s.successRate, meanQuality: s.meanQuality,
      meanLatencyMs: s.meanLatencyMs, meanCostUsd: s.meanCostUsd, ...(s.updatedAt ? { updatedAt: s.updatedAt } : {}),
    })),
  };
}
