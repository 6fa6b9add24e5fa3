import { aiProviderSpecSchema, type AIProvider, type AIProviderSpec } from '../api/index.ts';
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
