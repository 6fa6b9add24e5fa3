import { API_GROUP_VERSION, type Startup, type StartupTemplate } from '../api/index.ts';
import type { NodeLike } from '../admission/capacity.ts';
import { AllocationLedger } from '../admission/ledger.ts';
import type { KubeObject } from '../kube/client.ts';
import type { Manager } from '../runtime/manager.ts';
import type { StartupReconcilerDeps } from './startup-reconciler.ts';
import { MANAGED_SELECTOR, STARTUP_LABEL } from '../provisioning/metadata.ts';
import { SCAFFOLD_LABEL } from '../templates/index.ts';
import type { Controller } from '../runtime/controller.ts';
import { enqueueOwner, objectKey, type Informer } from '../runtime/informer.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { StartupReconciler } from './startup-reconciler.ts';

/** Kinds a provisioned Startup consists of (besides its scaffold ConfigMaps and its Secret, which is never cached). */
const OWNED_KINDS = [
  ['v1', 'Namespace'],
  ['v1', 'ResourceQuota'],
  ['v1', 'LimitRange'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['v1', 'ServiceAccount'],
  ['v1', 'Service'],
] as const;

export type StartupControllerHandle = { controller: Controller; startups: Informer<Startup>; templates: Informer<StartupTemplate> };

/**
 * The informers every part of the operator shares: Startups (the only ones that resync:
 * a resync of the others would enqueue the same Startups again) and StartupTemplates.
 */
export function startupInformers(manager: Manager, startupSelector: string | undefined): { startups: Informer<Startup>; templates: Informer<StartupTemplate> } {
  return {
    startups: manager.informer<Startup>({ apiVersion: API_GROUP_VERSION, kind: 'Startup', ...(startupSelector ? { labelSelector: startupSelector } : {}) }),
    templates: manager.informer<StartupTemplate>({ apiVersion: API_GROUP_VERSION, kind: 'StartupTemplate', resyncMs: 0 }),
  };
}

/**
 * Registers the Startup controller and the informers only it reads with the manager:
 * Nodes (capacity) and the owned kinds, label-selected so only our objects are cached.
 * A change to any owned object enqueues its Startup, which is how a hand edit is
 * reverted (the ResourceQuota's status too: its count of Secrets changing is how a deleted
 * database Secret is noticed, with no right to watch Secrets); any change among Startups or Nodes re-examines the waiting ones, since a
 * freed slot, capacity or node port may be theirs.
 */
export function setupStartupController(
  manager: Manager,
  shared: { startups: Informer<Startup>; templates: Informer<StartupTemplate> },
  config: StartupReconcilerDeps['config'],
  clock: Clock = systemClock,
): StartupControllerHandle {
  const { startups, templates } = shared;
  const nodes = manager.informer<KubeObject & NodeLike>({ apiVersion: 'v1', kind: 'Node', resyncMs: 0 });
  const owned = new Map<string, Informer<KubeObject>>(OWNED_KINDS.map(([apiVersion, kind]) =>
    [kind, manager.informer({ apiVersion, kind, labelSelector: MANAGED_SELECTOR, resyncMs: 0 })] as const));
  // Scaffold ConfigMaps only (task outputs and other ConfigMaps belong to other controllers),
  // as metadata: their hashes and who wrote them say whether they are current, and a whole
  // scaffold per Startup would be most of the operator's memory.
  owned.set('ConfigMap', manager.informer({
    apiVersion: 'v1', kind: 'ConfigMap', labelSelector: `${MANAGED_SELECTOR},${SCAFFOLD_LABEL}=true`, resyncMs: 0, metadataOnly: true, fieldOwners: true,
  }));
  manager.metrics.trackStartupPhases(() => startups.list());

  const reconciler = new StartupReconciler({
    client: manager.client,
    startups,
    templates,
    nodes,
    owned,
    ledger: new AllocationLedger(),
    config,
    events: (startup, type, reason, note) => manager.events.record(startup, { type, reason, action: 'Provision', note }),
    clock,
  });
  const controller = manager.controller({ name: 'startup', logKeyAs: 'startup', reconcile: (key, ctx) => reconciler.reconcile(key, ctx) });

  const enqueue = (key: string) => controller.enqueue(key);
  // Queued ones wait for a slot or capacity, Provisioning ones may wait for node ports.
  const enqueueWaiting = () => {
    for (const s of startups.list()) if (s.status?.phase === undefined || s.status.phase === 'Queued' || s.status.phase === 'Provisioning') enqueue(s.metadata.name);
  };
  const enqueueUsers = (template: StartupTemplate) => {
    for (const s of startups.list()) if (s.spec?.template === template.metadata.name) enqueue(s.metadata.name);
  };
  startups.addHandlers({
    add: (s) => { enqueue(objectKey(s)); enqueueWaiting(); },
    // Only what admission reads frees or takes room: the phase (a finished pipeline frees its slot) and the spec.
    update: (s, old) => {
      enqueue(objectKey(s));
      if (s.status?.phase !== old.status?.phase || s.metadata.generation !== old.metadata.generation) enqueueWaiting();
    },
    delete: () => enqueueWaiting(),
  });
  templates.addHandlers({ add: enqueueUsers, update: (t, old) => { if (t !== old) enqueueUsers(t); }, delete: enqueueUsers });
  nodes.addHandlers({ add: enqueueWaiting, delete: enqueueWaiting });
  for (const informer of owned.values()) informer.addHandlers(enqueueOwner(enqueue, STARTUP_LABEL));
  return { controller, startups, templates };
}
