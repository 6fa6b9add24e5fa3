import type { Prices } from '../api/money.ts';
import { aiProviderSpecSchema, parseUsd, type AIProvider, type AIProviderSpec, type PipelineTask, type StartupSpec, type TaskType } from '../api/index.ts';
import { ConditionType, isConditionTrue } from '../api/conditions.ts';

/** An AIProvider as routing sees it: its spec (defaults filled) and whether it is Ready. */
export type ProviderView = { name: string; spec: AIProviderSpec; ready: boolean };

const views = new WeakMap<AIProvider, ProviderView | null>();

/**
 * The providers that parse, as routing sees them. Each is parsed once per object (an
 * informer replaces an object when it changes): the gateway asks on every model call.
 */
export function providerViews(providers: readonly AIProvider[]): ProviderView[] {
  const out: ProviderView[] = [];
  for (const provider of providers) {
    let view = views.get(provider);
    if (view === undefined) {
      const spec = aiProviderSpecSchema.safeParse(provider.spec);
      view = spec.success ? { name: provider.metadata.name, spec: spec.data, ready: isConditionTrue(provider.status?.conditions, ConditionType.Ready) } : null;
      views.set(provider, view);
    }
    if (view) out.push(view);
  }
  return out;
}

export type Candidates = { ok: true; providers: ProviderView[] } | { ok: false; message: string };

/**
 * The providers a task may use, in the order to try them: the task's own `provider`
 * when it names one, else the Startup's `ai.providers`, else every provider, the offline
 * one last (it is a stand-in, chosen only when it is all there is or when named). Only
 * Ready ones count; when none is, the message says which were asked for.
 */
export function candidateProviders(
  requested: readonly string[] | undefined,
  taskProvider: string | undefined,
  all: readonly ProviderView[],
): Candidates {
  const byName = new Map(all.map((p) => [p.name, p]));
  const wanted = taskProvider !== undefined
    ? [taskProvider]
    : requested?.length
      ? [...requested]
      : [...all].sort((a, b) => Number(a.spec.type === 'offline') - Number(b.spec.type === 'offline') || (a.name < b.name ? -1 : 1)).map((p) => p.name);
  const providers = wanted.map((n) => byName.get(n)).filter((p): p is ProviderView => p !== undefined && p.ready);
  if (providers.length > 0) return { ok: true, providers };
  if (wanted.length === 0) return { ok: false, message: 'no AIProvider exists: apply one (examples/aiprovider-offline.yaml needs no key)' };
  const states = wanted.map((n) => `${n} (${byName.has(n) ? 'not Ready' : 'not found'})`);
  return { ok: false, message: `no Ready AIProvider to use: ${states.join(', ')}` };
}

export function providerPrices(spec: AIProviderSpec): Prices {
  return { inputMicrosPerMillion: parseUsd(spec.pricing.inputPerMillionTokens), outputMicrosPerMillion: parseUsd(spec.pricing.outputPerMillionTokens) };
}

/** Puts providers in the order a task of this type should try them (the router's choice first). */
export type Ranker = (providers: readonly ProviderView[], type: TaskType) => ProviderView[];

/**
 * The providers a task tries, in order. A task that names its provider is pinned to it;
 * `routing: Ordered` keeps `ai.providers` as a preference list; otherwise (`Learned`,
 * the default) the ranker orders the Ready providers the startup may use by what was
 * measured of them. The offline provider is a stand-in: unless the startup lists it,
 * it is only ever the last resort, after the ranked real ones.
 */
export function taskProviders(ai: Pick<StartupSpec['ai'], 'providers' | 'routing'>, task: Pick<PipelineTask, 'provider' | 'type'>, all: readonly ProviderView[], rank: Ranker): Candidates {
  const candidates = candidateProviders(ai.providers, task.provider, all);
  if (!candidates.ok || task.provider !== undefined || ai.routing === 'Ordered' || candidates.providers.length < 2) return candidates;
  const listed = (ai.providers?.length ?? 0) > 0;
  const ranked = candidates.providers.filter((p) => listed || p.spec.type !== 'offline');
  const rest = candidates.providers.filter((p) => !ranked.includes(p));
  return { ok: true, providers: [...(ranked.length > 1 ? rank(ranked, task.type) : ranked), ...rest] };
}
