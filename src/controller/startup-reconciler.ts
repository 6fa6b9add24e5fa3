import { randomBytes } from 'node:crypto';
import { API_GROUP_VERSION, startupNamespace, type Startup, type StartupStatus, type StartupTemplate } from '../api/index.ts';
import { factoryCapacity, type NodeLike } from '../admission/capacity.ts';
import type { AllocationLedger } from '../admission/ledger.ts';
import type { PortPool } from '../admission/node-ports.ts';
import type { Informer } from '../runtime/informer.ts';
import type { ReconcileContext, ReconcileOutcome } from '../runtime/controller.ts';
import type { Clock } from '../lib/clock.ts';
import { FIELD_MANAGER, type KubeClient, type KubeObject } from '../kube/client.ts';
import { isAlreadyExists } from '../kube/errors.ts';
import { STARTUP_PROVISIONING } from '../api/status-owners.ts';
import { OwnWrites } from '../runtime/own-writes.ts';
import { applyOwnedStatus } from '../runtime/status.ts';
import { databaseName, desiredDatabaseSecret } from '../provisioning/database.ts';
import { QUOTA_NAME } from '../provisioning/quota.ts';
import { desiredObjects } from '../provisioning/desired.ts';
import { withNodePorts } from '../provisioning/services.ts';
import { claimOf, parseSpec, servicesOf } from './startup-claims.ts';
import { coversDesired } from './live-match.ts';
import { ScaffoldRenderer, scaffoldCovers, scaffoldCurrent } from './scaffold.ts';
import { conditionTransitions, nextStatus, type Observation, type ScaffoldOutcome } from './startup-status.ts';

/** Emits a Kubernetes Event about a Startup. */
export type StartupEvents = (startup: Startup, type: 'Normal' | 'Warning', reason: string, message: string) => void;

export type StartupReconcilerDeps = {
  client: KubeClient;
  startups: Informer<Startup>;
  templates: Informer<StartupTemplate>;
  nodes: Informer<KubeObject & NodeLike>;
  /**
   * Informers of the kinds `desiredObjects` produces and of the scaffold ConfigMaps, by
   * kind: the live state a no-op apply is skipped against.
   */
  owned: ReadonlyMap<string, Informer>;
  ledger: AllocationLedger;
  config: {
    namespace: string;
    gatewayPort: number;
    maxActiveStartups: number;
    capacityCpu?: string | undefined;
    capacityMemory?: string | undefined;
    nodePortRange: PortPool;
  };
  events: StartupEvents;
  clock: Clock;
};

/** How soon a Startup that waits for room elsewhere (a slot, capacity, node ports) is looked at again. */
export const WAITING_RECHECK_MS = 30_000;

type Allocation = NonNullable<StartupStatus['allocation']>;
type QuotaStatus = KubeObject & { status?: { used?: Record<string, string> } };

/**
 * Reconciles one Startup: admission, then allocation, then the desired objects by
 * server-side apply, then status. Level-based: every pass starts from the spec, the
 * informer caches and the statuses of all Startups, never from what an earlier pass did;
 * objects already as desired are not applied again and an unchanged status is not
 * written, so a pass with nothing to do makes no write at all.
 *
 * Deletion needs no code here: every child has the Startup as controlling owner, so the
 * garbage collector removes the namespace and its contents, and the slot and node ports
 * are free the moment the Startup leaves the cache (see AllocationLedger).
 */
/** The scaffold a reconcile will apply: already current (its chunk count), or a render under way. */
type ScaffoldPlan = { live: KubeObject[]; current: number; rendering?: undefined } | { live: KubeObject[]; current?: undefined; rendering: ReturnType<ScaffoldRenderer['render']> };

/** The database Secret was created by this process, and no count has been seen since. */
const CREATED = Symbol('created');

export class StartupReconciler {
  readonly #d: StartupReconcilerDeps;
  /** By uid: the quota's count of Secrets when the database Secret was last known to exist, or CREATED (see #ensureDatabaseSecret). */
  readonly #databaseSecretSeen = new Map<string, string | undefined | typeof CREATED>();
  readonly #scaffold = new ScaffoldRenderer();
  readonly #written = new OwnWrites<Startup>();

  constructor(deps: StartupReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(name: string, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const cached = this.#d.startups.get(name);
    if (!cached) {
      const live = new Set(this.#d.startups.list().map((s) => s.metadata.uid ?? ''));
      this.#scaffold.retain(live);
      this.#written.retain(live);
      for (const uid of this.#databaseSecretSeen.keys()) if (!live.has(uid)) this.#databaseSecretSeen.delete(uid);
      return undefined;
    }
    if (cached.metadata.deletionTimestamp) return undefined;
    return this.#reconcile(this.#written.latest(cached), ctx);
  }

  async #reconcile(startup: Startup, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const d = this.#d;
    const name = startup.metadata.name;
    let spec;
    try {
      spec = parseSpec(startup);
    } catch (err) {
      // Retrying cannot fix a spec; its next edit enqueues the Startup again.
      await this.#writeStatus(startup, { kind: 'Invalid', reason: 'InvalidSpec', message: (err as Error).message.slice(0, 1024) });
      return undefined;
    }
    const template = d.templates.get(spec.template);
    const services = servicesOf(spec, template);
    const decision = d.ledger.allocate(
      d.startups.list().map(claimOf).filter((c) => c !== undefined),
      name,
      spec.expose === 'NodePort' ? services.map((s) => s.name) : [],
      { maxActive: d.config.maxActiveStartups, capacity: factoryCapacity(d.nodes.list(), d.config) },
      d.config.nodePortRange,
    );

    if (!decision.admitted) {
      const { reason, message } = decision.admission;
      // Larger than the whole factory: Stalled, not waiting its turn. A smaller spec or more
      // capacity (Nodes joining, which enqueue it; a resized one, which the recheck finds) lets it in.
      await this.#writeStatus(startup, { kind: reason === 'ExceedsCapacity' ? 'Refused' : 'Queued', reason, message });
      return { requeueAfter: WAITING_RECHECK_MS };
    }
    const namespace = startupNamespace(name);
    const nodePorts = decision.nodePorts;
    if (!nodePorts.ok) {
      const message = `needs ${nodePorts.needed} node ports, ${nodePorts.free} free in ${d.config.nodePortRange.first}-${d.config.nodePortRange.last}`;
      const held = startup.status?.allocation ?? { namespace, services: withNodePorts(services, {}), nodePorts: [], databaseName: databaseName(name) };
      await this.#writeStatus(startup, { kind: 'Stalled', reason: 'NodePortsExhausted', message, allocation: held });
      return { requeueAfter: WAITING_RECHECK_MS };
    }

    const resolved = withNodePorts(services, nodePorts.ports);
    const allocation: Allocation = {
      namespace,
      services: resolved,
      nodePorts: Object.values(nodePorts.ports).sort((a, b) => a - b),
      databaseName: databaseName(name),
    };
    // The allocation reaches the status before any Service uses it, so a restarted
    // operator (whose ledger is the statuses) can never hand the same port out twice.
    let current = startup;
    if (!coversDesired(startup.status?.allocation, allocation) || !coversDesired(allocation, startup.status?.allocation)) {
      current = await this.#writeStatus(startup, { kind: 'Provisioning', reason: 'Provisioning', message: 'creating namespace, quota, network policy and services', allocation });
    }

    const ref = { name, uid: startup.metadata.uid ?? '' };
    let applied = 0;
    let scaffold: { applied: number; outcome: ScaffoldOutcome };
    // The render runs in a worker: started now, it overlaps the round trips of the applies below.
    const plan = this.#planScaffold(startup, spec, template, allocation);
    try {
      for (const desired of desiredObjects({
        startup: ref,
        resources: spec.resources,
        expose: spec.expose,
        services: resolved,
        operatorNamespace: d.config.namespace,
        gatewayPort: d.config.gatewayPort,
      })) {
        if (coversDesired(this.#live(desired), desired)) continue;
        await d.client.serverSideApply(desired, { force: true });
        ctx.log.debug({ kind: desired.kind, name: desired.metadata.name }, 'applied');
        applied++;
      }
      await this.#ensureDatabaseSecret(startup, services);
      scaffold = await this.#applyScaffold(plan, spec, allocation);
    } catch (err) {
      await this.#writeStatus(current, { kind: 'Provisioning', reason: 'ApplyFailed', message: (err as Error).message.slice(0, 1024), allocation });
      throw err;
    }
    if (applied + scaffold.applied > 0) ctx.log.info({ applied: applied + scaffold.applied }, 'applied desired objects');
    await this.#writeStatus(current, { kind: 'Provisioned', allocation, scaffold: scaffold.outcome });
    // A missing template is waited for: its creation enqueues this Startup; the recheck is a safety net.
    return scaffold.outcome.rendered ? undefined : { requeueAfter: WAITING_RECHECK_MS };
  }

  /**
   * The scaffold into ConfigMaps of the Startup's namespace. The cache holds their
   * metadata only (a scaffold per Startup is the biggest thing the operator would
   * otherwise keep in memory): when the live ones are the whole render of the same inputs
   * (their input hash) and nobody else wrote them, nothing is rendered; otherwise the
   * render's ConfigMaps are applied where the live one differs, and chunks left over from
   * a larger earlier render are deleted. A render that fails is a condition, not an
   * error: retrying cannot fix a template or values, a change to them enqueues the Startup.
   * Planned before the other children are applied, so the render overlaps their round trips.
   */
  #planScaffold(startup: Startup, spec: ReturnType<typeof parseSpec>, template: StartupTemplate | undefined, allocation: Allocation): ScaffoldPlan {
    const informer = this.#d.owned.get('ConfigMap');
    if (!informer) throw new Error('no informer for scaffold ConfigMaps');
    const live = informer.list(allocation.namespace);
    const expected = this.#scaffold.expected(startup, spec, template, allocation);
    if (expected.ok) {
      const current = scaffoldCurrent(live, expected.inputHash, FIELD_MANAGER);
      if (current.current) return { live, current: current.chunks };
    }
    return { live, rendering: this.#scaffold.render(startup, spec, template, allocation) };
  }

  async #applyScaffold(plan: ScaffoldPlan, spec: ReturnType<typeof parseSpec>, allocation: Allocation): Promise<{ applied: number; outcome: ScaffoldOutcome }> {
    const rendered = (chunks: number) => ({ rendered: true as const, message: `template ${spec.template} rendered into ${chunks} ConfigMap${chunks === 1 ? '' : 's'} and a manifest` });
    if (plan.current !== undefined) return { applied: 0, outcome: rendered(plan.current) };
    const result = await plan.rendering;
    if (!result.ok) return { applied: 0, outcome: { rendered: false, reason: result.reason, message: result.message, waiting: result.reason === 'TemplateNotFound' } };
    let applied = 0;
    for (const cm of result.configMaps) {
      if (scaffoldCovers(this.#live(cm), cm, FIELD_MANAGER)) continue;
      await this.#d.client.serverSideApply(cm, { force: true });
      applied++;
    }
    const wanted = new Set(result.configMaps.map((cm) => cm.metadata.name));
    for (const stale of plan.live) {
      if (wanted.has(stale.metadata.name ?? '')) continue;
      await this.#d.client.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: stale.metadata.name ?? '', namespace: allocation.namespace });
      applied++;
    }
    return { applied, outcome: rendered(result.configMaps.length - 1) };
  }

  #live(desired: KubeObject): KubeObject | undefined {
    const informer = this.#d.owned.get(desired.kind);
    if (!informer) throw new Error(`no informer for owned kind ${desired.kind}`);
    return informer.get(desired.metadata.name ?? '', desired.metadata.namespace);
  }

  /**
   * Created once, never applied: a later pass must not rotate a password the database
   * already uses. The password comes from the CSPRNG and goes nowhere but the Secret.
   *
   * The operator may create Secrets in a startup's namespace but not read them, so a create
   * is the check: AlreadyExists means it is there. A dry run, because a real create is
   * charged to the namespace's quota even when it ends in AlreadyExists: each would write
   * the ResourceQuota's status and count one Secret more until the quota controller
   * recounts, and that change would enqueue the Startup again. When to check comes from the
   * cluster's own count of the namespace's Secrets, kept by the quota controller in the
   * ResourceQuota's status (it may read Secrets; we watch the quota): deleting the Secret
   * changes the count, the change enqueues the Startup, and a count unlike the one the
   * Secret was last confirmed at checks again. So a resync, or any pass at rest, sends
   * nothing; a change of the count (a task attempt's token Secret coming or going) costs one
   * dry run. What is remembered is an observation keyed by the live count it was made at,
   * not progress: a restart, or any change to the count, looks again. Where the count says
   * there can be no such Secret (none counted yet, in a namespace just made, or zero) the
   * dry run is skipped, and the first count after our own create is taken as the one it
   * exists at: a new Startup's Secret costs one request, not a dry run, a create and a
   * dry run again for the count its own create changed. (A quota deleted by hand and made
   * again has no count either: that create ends in AlreadyExists, charged once.)
   */
  async #ensureDatabaseSecret(startup: Startup, services: Parameters<typeof desiredDatabaseSecret>[1]): Promise<void> {
    const uid = startup.metadata.uid ?? '';
    const namespace = startupNamespace(startup.metadata.name);
    const quota = this.#d.owned.get('ResourceQuota')?.get(QUOTA_NAME, namespace) as QuotaStatus | undefined;
    // Read before the check, so a deletion racing it changes the count after what is recorded.
    const secrets = quota?.status?.used?.secrets;
    const seen = this.#databaseSecretSeen.get(uid);
    if (this.#databaseSecretSeen.has(uid) && seen === secrets) return;
    // Our own create just now is what changed the count: the first count seen after it is the one it exists at.
    if (seen === CREATED && Number(secrets) > 0) {
      this.#databaseSecretSeen.set(uid, secrets);
      return;
    }
    const secret = desiredDatabaseSecret({ name: startup.metadata.name, uid }, services, randomBytes(24).toString('base64url'));
    try {
      // No count yet (a namespace this pass made, its quota not yet counted) or none: nothing
      // to find, so the create goes without a dry run first.
      if (secrets !== undefined && secrets !== '0') await this.#d.client.create(secret, { dryRun: true });
      await this.#d.client.create(secret);
      this.#databaseSecretSeen.set(uid, CREATED);
      return;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    this.#databaseSecretSeen.set(uid, secrets);
  }

  /**
   * Writes the status the observation calls for, by server-side apply of the fields this
   * controller owns, and only when they differ from the cached status. Other writers'
   * fields (the pipeline's, the ledger's) are neither sent nor touched.
   */
  async #writeStatus(startup: Startup, observation: Observation): Promise<Startup> {
    const d = this.#d;
    const generation = { generation: startup.metadata.generation ?? 0, suspend: startup.spec?.suspend ?? false };
    const status = nextStatus(startup.status, generation, observation, new Date(d.clock.now()));
    if (status === startup.status) return startup;
    const written = await applyOwnedStatus<Startup>(d.client, { apiVersion: API_GROUP_VERSION, kind: 'Startup', name: startup.metadata.name }, STARTUP_PROVISIONING, startup.status, status);
    this.#announce(startup, startup.status, status);
    if (!written) return { ...startup, status };
    this.#written.record(startup, written);
    return written;
  }

  /**
   * Events for what a person watching `kubectl describe` needs: every phase change,
   * admission, provisioning done, and readiness lost for a reason of its own (a stall,
   * a failed apply, a template problem; the routine steps are already told by the phase).
   * What one status write routinely changed is one Event (admission comes with the phase
   * Provisioning, provisioning done with Running): every Event is a write the API server
   * serves on the provisioning path.
   */
  #announce(startup: Startup, before: StartupStatus | undefined, after: StartupStatus | undefined): void {
    if (!after || before === after) return;
    const told = conditionTransitions(before, after).filter((t) => {
      const routine = t.reason === 'Queued' || t.reason === 'Provisioning' || t.reason === 'PipelinePending';
      return t.type === 'Admitted' || (t.type === 'Provisioned' && t.status === 'True') || (t.type === 'Ready' && !routine);
    });
    const warning = (t: (typeof told)[number]) => t.type === 'Ready' && t.status === 'False';
    const note = (t: (typeof told)[number]) => `${t.type}=${t.status}: ${t.message}`;
    // A warning keeps its own reason, which is what alerts and `kubectl get events` filter on.
    const folded = after.phase !== before?.phase ? told.filter((t) => !warning(t)) : [];
    if (after.phase !== before?.phase) {
      this.#d.events(startup, 'Normal', `Phase${after.phase}`, [`phase ${before?.phase ?? '(none)'} -> ${after.phase}`, ...folded.map(note)].join('; '));
    }
    for (const t of told) if (!folded.includes(t)) this.#d.events(startup, warning(t) ? 'Warning' : 'Normal', t.reason, note(t));
  }
}
