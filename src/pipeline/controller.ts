import { API_GROUP_VERSION, parseStartupSpec, startupNamespace, type AIProvider, type PipelineTask, type Startup, type StartupSpec, type StartupTemplate } from '../api/index.ts';
import { ConditionType, getCondition, isConditionTrue } from '../api/conditions.ts';
import { STARTUP_PIPELINE } from '../api/status-owners.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isAlreadyExists, isNotFound } from '../kube/errors.ts';
import type { Clock } from '../lib/clock.ts';
import { STARTUP_LABEL } from '../provisioning/metadata.ts';
import { providerViews, taskProviders, type ProviderView } from '../providers/candidates.ts';
import type { Router } from '../providers/router.ts';
import type { Controller, ReconcileContext, ReconcileOutcome } from '../runtime/controller.ts';
import type { EventRecorder } from '../runtime/events.ts';
import { enqueueOwner, type Informer } from '../runtime/informer.ts';
import type { Manager } from '../runtime/manager.ts';
import { applyOwnedStatus } from '../runtime/status.ts';
import { expandPipeline, pipelineOf } from './dag.ts';
import { FINISHED_JOB_TTL_SECONDS, desiredJob, desiredTokenSecret, jobView, type JobView } from './job.ts';
import { jobName } from './names.ts';
import { outputViews, ownedBy } from './outputs.ts';
import { candidateKey, planStarts, type StartCandidate } from './scheduler.ts';
import { taskStates, unseenPreviousAttempt, type RetryPolicy, type TaskState } from './state.ts';
import { pipelineStatus, type TaskUsage } from './status.ts';
import type { TokenKeyring } from './token.ts';
import type { PipelineMetrics } from './metrics.ts';

/** What the pipeline needs to know of a startup's budget; the gateway's ledger provides it. */
export interface BudgetView {
  snapshot(startup: Startup): Promise<BudgetSnapshot>;
}

export type BudgetSnapshot = {
  /** The budget ran out: no attempt starts before `until`. */
  blocked: { until: number; message: string } | undefined;
  usage(task: string): TaskUsage | undefined;
};

export type PipelineConfig = {
  taskImage: string;
  /** The gateway's address as task pods reach it; known once the gateway listens. */
  gatewayUrl: () => string;
  maxTasksPerStartup: number;
  maxRunningTasks: number;
  taskDeadlineSeconds: number;
  retry: RetryPolicy;
};

export type PipelineCaches = {
  startups: Informer<Startup>;
  templates: Informer<StartupTemplate>;
  providers: Informer<AIProvider>;
  jobs: Informer<KubeObject>;
  outputs: Informer<KubeObject>;
};

export type PipelineDeps = {
  client: KubeClient;
  caches: PipelineCaches;
  budget: BudgetView;
  tokens: TokenKeyring;
  config: PipelineConfig;
  events: EventRecorder;
  metrics: PipelineMetrics;
  /** Learned routing: which provider an attempt starts on. */
  router: Pick<Router, 'rank' | 'chosen'>;
  clock: Clock;
};

/** A Job this process created, or read live, that the cache has not shown yet: it holds its slot meanwhile. */
type Expectation = { startup: string; provider: string | undefined; at: number };

const EXPECTATION_TTL_MS = 60_000;
/** A settled call changes usage: status follows at most this often. */
const USAGE_REFRESH_MS = 1_000;

/**
 * Runs every Startup's pipeline as a DAG of Jobs, level-based like the rest of the
 * operator: each pass derives every task's state from the Startup, its Jobs and its
 * stored outputs, starts what may start, and writes the pipeline's part of the status.
 * Nothing that matters lives only in memory: a restarted operator finds the same Jobs
 * (their names are deterministic, so a create that already happened fails harmlessly)
 * and the same outputs, and carries on.
 */
export class PipelineReconciler {
  readonly #d: PipelineDeps;
  readonly #expected = new Map<string, Expectation>();
  /** Each startup's tasks that are ready to start, as of its last pass: the other startups' side of the global plan. */
  readonly #ready = new Map<string, StartCandidate[]>();

  constructor(deps: PipelineDeps) {
    this.#d = deps;
  }

  /** Startups with tasks waiting for a slot: a freed slot may be theirs. */
  waiting(): string[] {
    return [...this.#ready].filter(([, c]) => c.length > 0).map(([name]) => name);
  }

  /** The cache now shows a Job this process created: it stops counting as expected. */
  observed(job: KubeObject): void {
    this.#expected.delete(`${job.metadata.namespace}/${job.metadata.name}`);
  }

  async reconcile(name: string, ctx: ReconcileContext): Promise<ReconcileOutcome> {
    const d = this.#d;
    const startup = d.caches.startups.get(name);
    if (!startup || startup.metadata.deletionTimestamp) {
      this.#ready.delete(name);
      for (const [key, e] of this.#expected) if (e.startup === name) this.#expected.delete(key);
      return undefined;
    }
    const conditions = startup.status?.conditions;
    // The pipeline runs in the namespace provisioning makes, on top of the rendered scaffold.
    if (!isConditionTrue(conditions, ConditionType.Provisioned) || !isConditionTrue(conditions, ConditionType.TemplateRendered)) return undefined;
    const parsed = parseStartupSpec(startup.spec);
    if (!parsed.success) return undefined;
    const spec = parsed.data;
    const now = d.clock.now();
    const namespace = startupNamespace(name);
    const pipeline = pipelineOf(spec, d.caches.templates.get(spec.template));

    const outputs = outputViews(d.caches.outputs.list(namespace), startup.metadata.uid);
    let jobs = d.caches.jobs.list(namespace).filter(ownedBy(startup.metadata.uid)).map(jobView).filter((j): j is JobView => j !== undefined);
    const instances = expandPipeline(pipeline?.tasks ?? [], (t) => outputs.get(t)?.workItems);
    const recorded = new Map((startup.status?.tasks ?? []).map((t) => [t.name, t.attempts ?? 0]));
    let states = taskStates(instances, jobs, outputs, recorded, d.config.retry, now);
    const budget = await d.budget.snapshot(startup);
    const providers = providerViews(d.caches.providers.list());
    const failed = [...states.values()].some((s) => s.phase === 'Failed');

    // What may start: ready tasks with a Ready provider, unless the pipeline is paused or over.
    let noProvider: string | undefined;
    const ready: StartCandidate[] = [];
    const held = spec.suspend || budget.blocked !== undefined || failed;
    instances.forEach((instance, order) => {
      const state = states.get(instance.name)!;
      // A task stopped by its budget is ready again once the budget is (held covers the window).
      if (held || state.phase !== 'Pending' || (state.wait.kind !== 'ready' && state.wait.kind !== 'budget')) return;
      const candidates = taskProviders(spec.ai, instance.task, providers, d.router.rank);
      if (!candidates.ok) {
        noProvider ??= `task ${instance.name}: ${candidates.message}`;
        return;
      }
      ready.push({
        startup: name, priority: spec.priority, createdAt: String(startup.metadata.creationTimestamp ?? ''),
        task: instance.name, order, provider: candidates.providers[0]!.name,
      });
    });
    this.#ready.set(name, ready);

    const granted = this.#plan(providers);
    // The granted attempts are independent: their Jobs are made side by side, not one round trip after another.
    const made = await Promise.all(ready.filter((c) => granted.has(candidateKey(c.startup, c.task))).map(async (c) => {
      const state = states.get(c.task) as Extract<TaskState, { phase: 'Pending' }>;
      const job = desiredJob({
        startup: { name, uid: startup.metadata.uid ?? '' }, resources: spec.resources, task: c.task, attempt: state.nextAttempt,
        provider: c.provider, image: d.config.taskImage, gatewayUrl: d.config.gatewayUrl(), deadlineSeconds: d.config.taskDeadlineSeconds,
      });
      const key = `${namespace}/${job.metadata.name}`;
      // Taken before any await: the plan and what it grants are recorded in one synchronous step.
      this.#expected.set(key, { startup: name, provider: c.provider, at: now });
      try {
        const previous = unseenPreviousAttempt(state);
        const found = previous === undefined ? undefined : await d.client.getOptional({ apiVersion: 'batch/v1', kind: 'Job', namespace, name: jobName(c.task, previous) });
        const live = found && jobView(found);
        if (live) {
          // The cache lags behind that attempt: this pass goes by what the API server says of it, and
          // the cache's catching up (its event enqueues the Startup) brings the next decision.
          this.#expected.delete(key);
          if (live.state === 'active') this.#expected.set(`${namespace}/${live.name}`, { startup: name, provider: live.provider, at: now });
          ctx.log.info({ task: c.task, attempt: live.attempt, state: live.state }, 'the previous attempt\'s Job is not in the cache yet; not starting another');
          return live;
        }
        const view = jobView(await d.client.create(job));
        d.router.chosen(c.provider, instances[c.order]!.task.type);
        ctx.log.info({ task: c.task, attempt: state.nextAttempt, provider: c.provider }, 'started a task attempt');
        return view;
      } catch (err) {
        if (isAlreadyExists(err)) return undefined;
        this.#expected.delete(key);
        throw err;
      }
    }));
    // What this pass made or read live: Jobs the cache does not show yet.
    const fresh = made.filter((v): v is JobView => v !== undefined);
    this.#ready.set(name, ready.filter((c) => !granted.has(candidateKey(c.startup, c.task))));
    if (fresh.length > 0) {
      jobs = [...jobs, ...fresh];
      states = taskStates(instances, jobs, outputs, recorded, d.config.retry, now);
    }

    await this.#drive(startup, spec, jobs, states);

    const before = startup.status;
    const status = pipelineStatus(before, {
      generation: startup.metadata.generation ?? 0, instances, states, suspended: spec.suspend, budget: budget.blocked, noProvider,
      modelOf: (provider, task) => modelOf(providers, provider, task), usage: budget.usage,
    }, new Date(now));
    if (status !== before) {
      await applyOwnedStatus(d.client, { apiVersion: API_GROUP_VERSION, kind: 'Startup', name }, STARTUP_PIPELINE, before, status);
      this.#announce(startup, before, status);
    }
    return nextCheck(states, budget.blocked, now);
  }

  /**
   * Brings each active Job in line: suspended while the Startup is, running otherwise
   * once its token exists; and lets the Jobs of stored outputs go after a while.
   */
  async #drive(startup: Startup, spec: StartupSpec, jobs: readonly JobView[], states: ReadonlyMap<string, TaskState>): Promise<void> {
    const d = this.#d;
    const namespace = startupNamespace(startup.metadata.name);
    const ref = (job: JobView) => ({ apiVersion: 'batch/v1', kind: 'Job', namespace, name: job.name });
    // Each Job on its own: side by side.
    await Promise.all(jobs.map(async (job) => {
      if (job.state === 'active') {
        if (spec.suspend && !job.suspended) await d.client.mergePatch(ref(job), { spec: { suspend: true } });
        if (!spec.suspend && job.suspended) {
          await this.#ensureToken(startup, job);
          await d.client.mergePatch(ref(job), { spec: { suspend: false } });
        }
      } else if (job.state === 'succeeded' && !job.ttlSet && states.get(job.task)?.phase === 'Succeeded') {
        // Only once the output is stored may the Job (and its logs) go.
        await d.client.mergePatch(ref(job), { spec: { ttlSecondsAfterFinished: FINISHED_JOB_TTL_SECONDS } }).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
      }
    }));
  }

  /** A Job is resumed once per start or resume: making its token each time costs a create that may find it there already. */
  async #ensureToken(startup: Startup, job: JobView): Promise<void> {
    const d = this.#d;
    const namespace = startupNamespace(startup.metadata.name);
    const token = await d.tokens.mint({ namespace, job: job.name, uid: job.uid });
    try {
      await d.client.create(desiredTokenSecret({ name: startup.metadata.name, uid: startup.metadata.uid ?? '' }, job, token));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  /** The global plan: every startup's ready tasks against what runs now, counted from the Jobs and the creates in flight. */
  #plan(providers: readonly ProviderView[]): Set<string> {
    const d = this.#d;
    const now = d.clock.now();
    const perStartup = new Map<string, number>();
    const perProvider = new Map<string, number>();
    let total = 0;
    const count = (startup: string, provider: string | undefined) => {
      perStartup.set(startup, (perStartup.get(startup) ?? 0) + 1);
      if (provider) perProvider.set(provider, (perProvider.get(provider) ?? 0) + 1);
      total++;
    };
    const seen = new Set<string>();
    for (const job of d.caches.jobs.list()) {
      const view = jobView(job);
      const startup = job.metadata.labels?.[STARTUP_LABEL];
      seen.add(`${job.metadata.namespace}/${job.metadata.name}`);
      // Only this factory's startups: a cluster may run other factories (disjoint --startup-selector).
      if (!view || !startup || view.state !== 'active' || !d.caches.startups.get(startup)) continue;
      // A suspended Startup's Jobs hold no pods; a Job suspended only until its token exists is about to run.
      if (view.suspended && d.caches.startups.get(startup)?.spec?.suspend) continue;
      count(startup, view.provider);
    }
    for (const [key, e] of this.#expected) {
      if (seen.has(key) || now - e.at > EXPECTATION_TTL_MS) {
        this.#expected.delete(key);
        continue;
      }
      count(e.startup, e.provider);
    }
    d.metrics.tasksInFlight.set(total);
    const maxConcurrency = new Map(providers.map((p) => [p.name, p.spec.maxConcurrency]));
    return planStarts([...this.#ready.values()].flat(), { perStartup, perProvider, total }, {
      perStartup: d.config.maxTasksPerStartup,
      total: d.config.maxRunningTasks,
      perProvider: (p) => maxConcurrency.get(p) ?? 0,
    });
  }

  /** Events for what someone watching `kubectl describe` needs: an attempt that failed, a task that failed for good. */
  #announce(startup: Startup, before: Startup['status'], after: Startup['status']): void {
    const previous = new Map((before?.tasks ?? []).map((t) => [t.name, t]));
    for (const task of after?.tasks ?? []) {
      const was = previous.get(task.name);
      if (task.phase === 'Failed' && was?.phase !== 'Failed') {
        this.#d.events.record(startup, { type: 'Warning', reason: 'TaskFailed', action: 'RunTask', note: `task ${task.name} failed: ${task.reason ?? 'unknown reason'}` });
      } else if (task.reason?.startsWith('RetryBackoff') && !was?.reason?.startsWith('RetryBackoff')) {
        this.#d.events.record(startup, { type: 'Warning', reason: 'AttemptFailed', action: 'RunTask', note: `task ${task.name}: ${task.reason}` });
      }
      if (task.phase !== was?.phase && (task.phase === 'Succeeded' || task.phase === 'Failed')) {
        this.#d.metrics.taskFinished(task.type, task.phase, task.startedAt, task.finishedAt);
      }
    }
    const verdict = (s: Startup['status']) => getCondition(s?.conditions, ConditionType.PipelineSucceeded);
    const was = verdict(before);
    const now = verdict(after);
    if (now && (now.status !== was?.status || now.reason !== was?.reason) && now.reason === 'BudgetExceeded') {
      this.#d.events.record(startup, { type: 'Warning', reason: 'BudgetExceeded', action: 'RunTask', note: now.message });
    }
  }
}

function modelOf(providers: readonly ProviderView[], provider: string, task: PipelineTask): string | undefined {
  return task.model ?? providers.find((p) => p.name === provider)?.spec.model;
}

/** When to look again even if nothing changes: a backoff ends, the budget window resets, an output is overdue. */
function nextCheck(states: ReadonlyMap<string, TaskState>, blocked: BudgetSnapshot['blocked'], now: number): ReconcileOutcome {
  let at = blocked?.until;
  const earliest = (t: number) => { at = Math.min(at ?? t, t); };
  for (const s of states.values()) {
    if (s.phase === 'Pending' && s.wait.kind === 'backoff') earliest(s.wait.until);
    if (s.phase === 'Running' && s.settlesBy !== undefined) earliest(s.settlesBy);
  }
  return at === undefined ? undefined : { requeueAfter: Math.max(0, at - now) + 50 };
}

/**
 * Registers the pipeline controller: a work queue of Startups, fed by every object a
 * pipeline's progress depends on (the Startup, its Jobs and outputs, the providers and
 * templates), and by the ledger when usage or a budget changes.
 */
export function setupPipelineController(
  manager: Manager,
  deps: Omit<PipelineDeps, 'client' | 'events'>,
): { controller: Controller; reconciler: PipelineReconciler; usageChanged(startup: string): void } {
  const reconciler = new PipelineReconciler({ client: manager.client, events: manager.events, ...deps });
  const controller = manager.controller({ name: 'pipeline', logKeyAs: 'startup', reconcile: (key, ctx) => reconciler.reconcile(key, ctx) });
  const { caches } = deps;
  const enqueue = (name: string) => controller.enqueue(name);
  const enqueueWaiting = () => reconciler.waiting().forEach(enqueue);
  const byOwner = enqueueOwner(enqueue, STARTUP_LABEL);
  caches.startups.addHandlers({
    add: (s) => enqueue(s.metadata.name),
    update: (s) => enqueue(s.metadata.name),
    delete: (s) => { enqueue(s.metadata.name); enqueueWaiting(); },
  });
  caches.jobs.addHandlers(byOwner);
  caches.jobs.addHandlers({
    add: (job) => reconciler.observed(job),
    // A Job that ended freed a slot that another startup may be waiting for.
    update: (job, old) => { if (jobView(job)?.state !== 'active' && jobView(old)?.state === 'active') enqueueWaiting(); },
    delete: enqueueWaiting,
  });
  caches.outputs.addHandlers(byOwner);
  const everyone = () => caches.startups.list().forEach((s) => enqueue(s.metadata.name));
  caches.providers.addHandlers({ add: everyone, update: (p, old) => { if (p !== old) everyone(); }, delete: everyone });
  const users = (t: StartupTemplate) => caches.startups.list().filter((s) => s.spec?.template === t.metadata.name).forEach((s) => enqueue(s.metadata.name));
  caches.templates.addHandlers({ add: users, update: (t, old) => { if (t !== old) users(t); }, delete: users });
  return { controller, reconciler, usageChanged: (startup) => controller.queue.addAfter(startup, USAGE_REFRESH_MS) };
}

