import { API_GROUP_VERSION, aiProviderSpecSchema, type AIProvider, type AIProviderStatus } from '../api/index.ts';
import { ConditionType, getCondition, setCondition } from '../api/conditions.ts';
import type { KubeObject } from '../kube/client.ts';
import { PROVIDER_STATUS } from '../api/status-owners.ts';
import type { Manager } from '../runtime/manager.ts';
import { keySecret, providerReadiness, type ProviderReadiness, type SecretLookup } from '../providers/readiness.ts';
import { objectKey, type Informer } from '../runtime/informer.ts';
import { applyOwnedStatus } from '../runtime/status.ts';
import { systemClock, type Clock } from '../lib/clock.ts';

/** A provider that is not Ready is looked at again this often: its Secret may appear at any time. */
const NOT_READY_RECHECK_MS = 30_000;

/**
 * An AIProvider's status from its readiness: the same object when nothing changed, so the
 * caller writes only on a change. `stats` belong to the learning engine and are kept.
 */
export function providerStatus(current: AIProviderStatus | undefined, generation: number, readiness: ProviderReadiness, now: Date): AIProviderStatus {
  const ready = { reason: readiness.reason, message: readiness.message, observedGeneration: generation };
  // A provider that is not Ready waits for a change elsewhere (its key Secret, its spec): Stalled, which
  // kstatus (Flux, kpt) reads as Failed at once rather than as progress to wait for.
  const conditions = setCondition(
    setCondition(current?.conditions, { type: ConditionType.Ready, status: readiness.ready ? 'True' : 'False', ...ready }, now),
    { type: ConditionType.Stalled, status: readiness.ready ? 'False' : 'True', ...ready },
    now,
  );
  if (current && conditions === current.conditions && current.observedGeneration === generation) return current;
  return { ...current, observedGeneration: generation, conditions };
}

/**
 * Marks each AIProvider Ready when its API key resolves. The key's Secret is read by name,
 * one GET per check, and only the presence of the key is kept: Secrets are never cached,
 * and no key value leaves this function. Secrets are not watched (that would mean caching
 * them), so a provider that is not Ready is re-checked every 30 s, a Ready one at resync.
 */
export function setupProviderController(manager: Manager, providers: Informer<AIProvider>, namespace: string, clock: Clock = systemClock): void {
  const { client } = manager;

  const lookup = async (provider: AIProvider): Promise<{ readiness: ProviderReadiness }> => {
    const parsed = aiProviderSpecSchema.safeParse(provider.spec);
    if (!parsed.success) return { readiness: { ready: false, reason: 'InvalidSpec', message: parsed.error.issues[0]?.message ?? 'invalid spec' } };
    const ref = keySecret(parsed.data, namespace);
    let secret: SecretLookup | undefined;
    if (ref && !('refused' in ref)) {
      const found = await client.getOptional<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', namespace: ref.namespace, name: ref.name });
      secret = found ? { found: true, hasKey: Boolean(found.data?.[ref.key]) } : { found: false };
    }
    return { readiness: providerReadiness(parsed.data, namespace, secret) };
  };

  const controller = manager.controller({
    name: 'aiprovider',
    reconcile: async (name) => {
      const provider = providers.get(name);
      if (!provider) return;
      const { readiness } = await lookup(provider);
      const generation = provider.metadata.generation ?? 0;
      const status = providerStatus(provider.status, generation, readiness, new Date(clock.now()));
      await applyOwnedStatus(client, { apiVersion: API_GROUP_VERSION, kind: 'AIProvider', name }, PROVIDER_STATUS, provider.status, status);
      const before = getCondition(provider.status?.conditions, ConditionType.Ready);
      const after = getCondition(status.conditions, ConditionType.Ready);
      if (after && after.status !== before?.status) {
        manager.events.record(provider, { type: readiness.ready ? 'Normal' : 'Warning', reason: after.reason, action: 'ResolveKey', note: after.message });
      }
      return readiness.ready ? undefined : { requeueAfter: NOT_READY_RECHECK_MS };
    },
  });
  const enqueue = (p: AIProvider) => controller.enqueue(objectKey(p));
  providers.addHandlers({
    add: enqueue,
    // A status-only change (this controller's own write, or the learning engine's stats,
    // up to once a second per provider) says nothing new about the key: no Secret read for it.
    // A resync (the same object) and a spec change do.
    update: (p, old) => { if (p === old || p.metadata.generation !== old.metadata.generation) enqueue(p); },
    delete: enqueue,
  });
}
