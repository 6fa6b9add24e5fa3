import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startupNamespace, type AIProvider, type Startup, type StartupTemplate, type TaskType } from '../api/index.ts';
import { toKubeTime } from '../api/conditions.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { isAlreadyExists, isNotFound } from '../kube/errors.ts';
import { attemptInput } from '../pipeline/input.ts';
import { CONTEXT_CONFIGMAP, FAILURE_KIND_ANNOTATION, FAILURE_MESSAGE_ANNOTATION, FAILURE_REASON_ANNOTATION, OUTPUT_JSON_KEY, outputConfigMapName } from '../pipeline/names.ts';
import { contextData, desiredContextConfigMap, desiredOutputConfigMap, outputViews, reviewedAnnotations, storedContext } from '../pipeline/outputs.ts';
import type { StartupRef } from '../provisioning/metadata.ts';
import { extractInsights, type ContextEntry } from '../tasks/context.ts';
import { dependenciesOf, implementedWorkItem, type TaskInput } from '../tasks/input.ts';
import type { TaskOutput } from '../tasks/schemas.ts';
import type { TokenKeyring } from '../pipeline/token.ts';
import { providerViews, taskProviders, type ProviderView, type Ranker } from '../providers/candidates.ts';
import type { Router } from '../providers/router.ts';
import type { Sample } from '../providers/stats.ts';
import { offlineOutput } from '../providers/offline.ts';
import type { Informer } from '../runtime/informer.ts';
import { toMarkdown } from '../tasks/markdown.ts';
import { scoreOutput } from '../tasks/rubric.ts';
import { validateOutput } from '../tasks/validate.ts';
import { attemptOfJob, resolveAttempt, type Attempt } from './attempts.ts';
import { expectedRequestBytes } from './expected-call.ts';
import { BodyTooLargeError, bearer, readBody, sendGatewayError, sendJson } from './http.ts';
import type { WireFormat } from './metering.ts';
import { ModelProxy, wireFormatOf, type ModelProxyDeps } from './models.ts';
import {
  FAILURE_PATH, OUTPUT_PATH, PROVIDERS_PREFIX, TASK_PATH,
  type FailureReport, type OutputReport, type ProviderOffer, type ProviderTry, type TaskAssignment,
} from '../protocol/task.ts';

export type GatewayCaches = {
  startups: Informer<Startup>;
  templates: Informer<StartupTemplate>;
  providers: Informer<AIProvider>;
  jobs: Informer<KubeObject>;
  outputs: Informer<KubeObject>;
};

export type GatewayOptions = Omit<ModelProxyDeps, 'offline'> & {
  client: KubeClient;
  caches: GatewayCaches;
  keyring: TokenKeyring;
  host: string;
  port: number;
  /** The address task pods use; `http://127.0.0.1:<port>` when unset (pods on this machine, as with the local pod runner). */
  url?: string | undefined;
  /** The quality threshold below which the runner asks another provider too, and how many more at most. */
  quality: { min: number; retries: number };
  /** Orders an attempt's fallbacks, after the provider the scheduler started it on. */
  router: Pick<Router, 'rank'>;
  /** The learning engine: told how each provider an attempt asked did. */
  stats: { record(provider: string, type: TaskType, sample: Sample): void };
};

/** What one attempt's calls to one provider took and cost, as the gateway measured them. */
type ProviderCalls = { calls: number; latencyMs: number; costMicros: number };

/**
 * What the gateway keeps of an attempt while it runs: its input, read once (the runner asks
 * for it, the offline provider answers from it on every call, and its dependencies'
 * outputs do not change meanwhile), and its calls per provider, until it reports how it ended.
 */
type AttemptState = { input: Promise<TaskInput> | undefined; calls: Map<string, ProviderCalls>; expected?: true };

/** Output tokens a task asks for per call: code needs room, prose less. */
const MAX_OUTPUT_TOKENS: Record<TaskType, number> = {
  research: 4096, analysis: 4096, spec: 6144, architecture: 6144, decompose: 4096, codegen: 12_288, review: 4096,
};
/** Whether a call may go to a provider does not depend on the order: no draw for it. */
const keepOrder: Ranker = (providers) => [...providers];
/** How often the runner may ask again after an answer that does not validate. */
const REASKS = 2;
const MAX_REPORT_BYTES = 2 * 1024 * 1024;
const SWEEP_MS = 30_000;
/** Attempts in flight are at most the factory's task limit; past this many, the oldest are long over (their pods killed before they reported). */
const MAX_TRACKED_ATTEMPTS = 1024;
const REASON = /^[A-Z][A-Za-z0-9]{0,63}$/;
const FAILURE_KINDS = ['permanent', 'transient', 'budget', 'revoked'];

/**
 * The AI gateway: the only holder of provider keys, the budget's gatekeeper, and the one
 * address a task Job talks to. It runs on the leader only (it is started and stopped
 * with leadership), so exactly one process meters at a time and no call lands where
 * the ledger is not held; the chart's Service selects the leader's pod.
 */
export class Gateway {
  readonly name = 'ai-gateway';
  readonly #o: GatewayOptions;
  readonly #proxy: ModelProxy;
  /** By Job uid. */
  readonly #attempts = new Map<string, AttemptState>();
  #server: Server | undefined;
  #stopping = false;
  #sweep: unknown;
  #port: number;

  constructor(options: GatewayOptions) {
    this.#o = options;
    this.#port = options.port;
    this.#proxy = new ModelProxy({
      ...options,
      offline: async (attempt) => JSON.stringify(offlineOutput(await this.#input(attempt))),
      observe: (attempt, provider, call) => this.#observe(attempt, provider, call),
    });
    const expect = (job: KubeObject) => this.#expect(job);
    options.caches.jobs.addHandlers({ add: expect, update: expect });
  }

  /** The address task pods are given. */
  url(): string {
    return this.#o.url ?? `http://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    await this.#o.keyring.key();
    const server = createServer((req, res) => {
      // Once stopping, a kept-alive connection would hold the stop until its deadline and
      // bring this gateway more calls: one that brings a call now is cut before anything
      // is reserved (the runner calls again, at the next leader), and one whose call is
      // answered goes with its answer.
      if (this.#stopping) {
        req.socket.destroy();
        return;
      }
      res.once('finish', () => { if (this.#stopping) req.socket.end(); });
      const started = performance.now();
      const route = routeOf(req.url ?? '/');
      this.#route(req, res, started).catch((err: unknown) => {
        this.#o.logger.error({ err, route }, 'gateway request failed');
        if (!res.headersSent) sendGatewayError(res, 'openai', 500, 'unavailable', 'internal gateway error');
        else res.destroy();
      }).finally(() => {
        this.#o.metrics.duration.observe({ route, code: String(res.statusCode) }, (performance.now() - started) / 1000);
      });
    });
    // Model calls can take minutes; the runner's own timeouts bound them.
    server.requestTimeout = 0;
    server.headersTimeout = 30_000;
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port, this.#o.host, () => { server.off('error', reject); resolve(); });
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    const sweep = () => {
      this.#o.ledger.sweep((name) => this.#o.caches.startups.get(name)?.status?.phase === 'Running');
      this.#sweep = this.#o.clock.setTimeout(sweep, SWEEP_MS);
    };
    this.#sweep = this.#o.clock.setTimeout(sweep, SWEEP_MS);
    this.#o.logger.info({ address: `${this.#o.host}:${this.#port}`, url: this.url() }, 'AI gateway listening');
  }

  /**
   * Stops taking calls (kept-alive connections included: each goes with its answer), gives
   * those in flight `deadlineMs` to finish, then cuts the rest
   * (each is charged at its reservation, by this process if the write still gets
   * through, else by the next leader) and lets the ledger's last writes land.
   */
  async stop(deadlineMs: number): Promise<void> {
    this.#o.clock.clearTimeout(this.#sweep);
    const server = this.#server;
    this.#server = undefined;
    this.#stopping = true;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: unknown;
      await Promise.race([closed, new Promise((r) => { timer = this.#o.clock.setTimeout(() => r(undefined), deadlineMs); })]);
      this.#o.clock.clearTimeout(timer);
      this.#proxy.abortAll();
      server.closeAllConnections();
      await closed;
    }
    await this.#proxy.close();
    await this.#o.ledger.stop(Math.min(deadlineMs, 5_000));
  }

  async #route(req: IncomingMessage, res: ServerResponse, arrived: number): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const format: WireFormat = path.endsWith('/messages') ? 'anthropic' : 'openai';
    const attempt = await resolveAttempt(bearer(req), this.#o.keyring, this.#o.caches, this.#o.client);
    if (!attempt) return sendGatewayError(res, format, 401, 'invalid-token', 'the task token is invalid or its attempt is over');
    if (req.method === 'GET' && path === TASK_PATH) return sendJson(res, 200, await this.#assignment(attempt));
    if (req.method === 'POST' && path === OUTPUT_PATH) return this.#output(req, res, attempt);
    if (req.method === 'POST' && path === FAILURE_PATH) return this.#failure(req, res, attempt);
    const call = /^\/providers\/([^/]+)\/v1\/(chat\/completions|messages)$/.exec(path);
    if (req.method === 'POST' && call && path.startsWith(PROVIDERS_PREFIX)) {
      const name = decodeURIComponent(call[1]!);
      const provider = this.#offers(attempt, keepOrder).find((p) => p.name === name);
      if (!provider) return sendGatewayError(res, format, 403, 'provider-not-allowed', `task ${attempt.job.task} may not use provider ${name} (not in its providers, or not Ready)`);
      if (wireFormatOf(provider.spec) !== format) {
        return sendGatewayError(res, format, 400, 'provider-not-allowed', `provider ${name} (type ${provider.spec.type}) does not speak the ${format} format`);
      }
      return this.#proxy.handle(req, res, attempt, provider, format, arrived);
    }
    sendGatewayError(res, format, 404, 'not-found', `no route ${req.method} ${path}`);
  }

  /** The providers an attempt may call, the one it was started on first, then its fallbacks in the router's order. */
  #offers(attempt: Attempt, rank: Ranker = this.#o.router.rank): ProviderView[] {
    const candidates = taskProviders(attempt.spec.ai, attempt.task, providerViews(this.#o.caches.providers.list()), rank);
    if (!candidates.ok) return [];
    const first = candidates.providers.find((p) => p.name === attempt.job.provider);
    return first ? [first, ...candidates.providers.filter((p) => p !== first)] : candidates.providers;
  }

  async #assignment(attempt: Attempt): Promise<TaskAssignment> {
    const providers: ProviderOffer[] = this.#offers(attempt).map((p) => {
      const format = wireFormatOf(p.spec);
      const base = `${PROVIDERS_PREFIX}${encodeURIComponent(p.name)}`;
      return { name: p.name, type: p.spec.type, model: attempt.task.model ?? p.spec.model, format, basePath: format === 'openai' ? `${base}/v1` : base };
    });
    return {
      input: await this.#input(attempt), attempt: attempt.job.attempt, providers, maxOutputTokens: MAX_OUTPUT_TOKENS[attempt.task.type], reasks: REASKS,
      minQuality: this.#o.quality.min, qualityRetries: this.#o.quality.retries,
    };
  }

  /**
   * A task attempt's Job is running (just created or resumed): while
   * its pod starts, its input is read (the runner asks for it first) and its first call's
   * worst case reserved ahead as spares (see ModelProxy.expect). Once per attempt, and only
   * while serving: a standby holds no ledger.
   */
  #expect(job: KubeObject): void {
    if (!this.#server || this.#stopping || (job as { spec?: { suspend?: boolean } }).spec?.suspend) return;
    const attempt = attemptOfJob(job, this.#o.caches);
    if (!attempt || attempt.startup.spec?.suspend) return;
    const state = this.#state(attempt);
    if (state.expected) return;
    state.expected = true;
    // Only the first matters, the job's own provider: no ranking (no draw from the router's stream).
    const provider = this.#offers(attempt, keepOrder)[0];
    if (!provider) return;
    this.#input(attempt)
      .then((input) => this.#proxy.expect(attempt, provider, expectedRequestBytes(input), MAX_OUTPUT_TOKENS[attempt.task.type]))
      .catch((err: unknown) => this.#o.logger.debug({ err, startup: attempt.startup.metadata.name, task: attempt.job.task }, 'could not reserve ahead; the call will reserve for itself'));
  }

  #state(attempt: Attempt): AttemptState {
    let state = this.#attempts.get(attempt.job.uid);
    if (!state) {
      this.#attempts.set(attempt.job.uid, (state = { input: undefined, calls: new Map() }));
      for (const uid of this.#attempts.keys()) {
        if (this.#attempts.size <= MAX_TRACKED_ATTEMPTS) break;
        this.#attempts.delete(uid);
      }
    }
    return state;
  }

  #input(attempt: Attempt): Promise<TaskInput> {
    const state = this.#state(attempt);
    if (state.input) return state.input;
    const input = attemptInput({
      name: attempt.startup.metadata.name, spec: attempt.spec, template: attempt.template,
      outputs: outputViews(this.#o.caches.outputs.list(attempt.namespace), attempt.startup.metadata.uid),
      readOutput: (task) => this.#readOutput(attempt.namespace, task),
      readContext: () => this.#readContext(attempt.namespace),
    }, attempt.job.task).then(async (result) => {
      if (!result.ok) throw new Error(result.message);
      const startup = { name: attempt.startup.metadata.name, uid: attempt.startup.metadata.uid ?? '' };
      for (const [source, entries] of result.extracted) {
        await this.#recordContext(startup, source, entries).catch((err: unknown) => {
          this.#o.logger.warn({ err, startup: startup.name, source }, 'could not repair the shared context');
        });
      }
      return result.input;
    });
    // A failed read is tried again on the next ask.
    input.catch(() => { if (state.input === input) state.input = undefined; });
    state.input = input;
    return input;
  }

  #observe(attempt: Attempt, provider: string, call: { latencyMs: number; costMicros: number }): void {
    const { calls } = this.#state(attempt);
    const sum = calls.get(provider) ?? { calls: 0, latencyMs: 0, costMicros: 0 };
    calls.set(provider, { calls: sum.calls + 1, latencyMs: sum.latencyMs + call.latencyMs, costMicros: sum.costMicros + call.costMicros });
  }

  /**
   * One sample per provider the attempt asked: whether it gave a valid answer, its score
   * (the gateway's own for the answer stored, the runner's for one it passed over), and
   * what its calls took and cost, measured here. A provider the runner names but the
   * gateway saw no call to is left out: the evidence is what passed through the gateway.
   */
  #learn(attempt: Attempt, tried: unknown, stored: { provider: string; quality: number } | undefined): void {
    const calls = this.#attempts.get(attempt.job.uid)?.calls;
    if (!calls) return;
    for (const t of triesOf(tried)) {
      const measured = calls.get(t.provider);
      if (!measured) continue;
      calls.delete(t.provider);
      const quality = stored?.provider === t.provider ? stored.quality : t.quality;
      this.#o.stats.record(t.provider, attempt.task.type, { success: t.valid, quality, latencyMs: measured.latencyMs, costMicros: measured.costMicros });
    }
  }

  /** The review's verdict on each work item goes into the score of the codegen task that implemented it. */
  async #judgeCode(attempt: Attempt, input: TaskInput, review: TaskOutput<'review'>): Promise<void> {
    const outputs = outputViews(this.#o.caches.outputs.list(attempt.namespace), attempt.startup.metadata.uid);
    await Promise.all(dependenciesOf(input, 'codegen').map(async (dependency) => {
      const verdict = review.items.find((i) => i.workItem === implementedWorkItem(dependency))?.verdict;
      const view = outputs.get(dependency.name);
      const annotations = verdict && view ? reviewedAnnotations(view, verdict) : undefined;
      if (!annotations) return;
      await this.#o.client.mergePatch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: attempt.namespace, name: outputConfigMapName(dependency.name) }, { metadata: { annotations } });
    }));
  }

  async #readContext(namespace: string): Promise<Map<string, ContextEntry[]>> {
    const cm = await this.#o.client.getOptional<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: CONTEXT_CONFIGMAP });
    return storedContext(cm?.data);
  }

  /** Adds one task's insights to the startup's shared context: its own keys only, made on the first write. */
  async #recordContext(startup: StartupRef, source: string, entries: readonly ContextEntry[]): Promise<void> {
    const data = contextData(source, entries);
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: startupNamespace(startup.name), name: CONTEXT_CONFIGMAP };
    for (;;) {
      try {
        await this.#o.client.mergePatch(ref, { data });
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      try {
        await this.#o.client.create(desiredContextConfigMap(startup, data));
        return;
      } catch (err) {
        // Another task's first write won the race: patch over it.
        if (!isAlreadyExists(err)) throw err;
      }
    }
  }

  async #readOutput(namespace: string, task: string): Promise<unknown> {
    const cm = await this.#o.client.get<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: outputConfigMapName(task) });
    return JSON.parse(cm.data?.[OUTPUT_JSON_KEY] ?? 'null') as unknown;
  }

  /**
   * Stores a task's output, checked again here (the runner validated it, but only what
   * the gateway checks is trusted), as a ConfigMap in the startup's namespace. The
   * runner is answered only once it is stored: an attempt that exits 0 has its output
   * on record.
   */
  async #output(req: IncomingMessage, res: ServerResponse, attempt: Attempt): Promise<void> {
    const report = await readReport<OutputReport>(req, res);
    if (!report) return;
    const type = attempt.task.type;
    const validation = validateOutput(type, report.output);
    if (!validation.ok) return sendGatewayError(res, 'openai', 422, 'bad-request', `output does not validate: ${validation.issues.join('; ')}`);
    const output = validation.output;
    // Scored again here, like the validation: the quality decides routing, so the runner's own figure is not trusted.
    const input = await this.#input(attempt);
    const quality = scoreOutput(type, output, input);
    const workItems = type === 'decompose' ? (output as { workItems: unknown[] }).workItems.length : undefined;
    const startup = { name: attempt.startup.metadata.name, uid: attempt.startup.metadata.uid ?? '' };
    const configMap = desiredOutputConfigMap(startup, {
      task: attempt.job.task, output, markdown: toMarkdown(type, attempt.job.task, output as never, attempt.spec.displayName),
      provider: String(report.provider ?? attempt.job.provider ?? ''), model: String(report.model ?? ''), quality, attempt: attempt.job.attempt,
      finishedAt: toKubeTime(new Date(this.#o.clock.now())), ...(workItems !== undefined ? { workItems } : {}),
    });
    // Before the review's output: once it is stored the pipeline is done, with the scores as they are then.
    if (type === 'review') await this.#judgeCode(attempt, input, output as TaskOutput<'review'>);
    await this.#o.client.serverSideApply(configMap, { force: true });
    // After the output, before the answer: a failure here is a 5xx the runner retries (storing
    // the output again is idempotent), so an attempt that exits 0 has its insights shared too.
    await this.#recordContext(startup, attempt.job.task, extractInsights(type, attempt.job.task, output as never, input.dependencies.length === 0));
    this.#learn(attempt, report.tried, { provider: String(report.provider ?? ''), quality });
    this.#attempts.delete(attempt.job.uid);
    sendJson(res, 200, { stored: configMap.metadata.name });
  }

  /** Records how an attempt failed on its Job, where the scheduler reads it. */
  async #failure(req: IncomingMessage, res: ServerResponse, attempt: Attempt): Promise<void> {
    const report = await readReport<FailureReport>(req, res);
    if (!report) return;
    const kind = FAILURE_KINDS.includes(report.kind) ? report.kind : 'transient';
    const reason = REASON.test(String(report.reason)) ? String(report.reason) : 'TaskFailed';
    const message = String(report.message ?? '').slice(0, 1024);
    try {
      await this.#o.client.mergePatch({ apiVersion: 'batch/v1', kind: 'Job', namespace: attempt.namespace, name: attempt.job.name }, {
        metadata: { annotations: { [FAILURE_KIND_ANNOTATION]: kind, [FAILURE_REASON_ANNOTATION]: reason, [FAILURE_MESSAGE_ANNOTATION]: message } },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    // A budget stop or a revoked token says nothing about the providers.
    if (kind !== 'budget' && kind !== 'revoked') this.#learn(attempt, report.tried, undefined);
    this.#attempts.delete(attempt.job.uid);
    sendJson(res, 200, { recorded: reason });
  }
}

/** A runner's account of the providers it asked, kept to entries of the right shape. */
function triesOf(value: unknown): ProviderTry[] {
  if (!Array.isArray(value)) return [];
  return value.filter((t): t is ProviderTry => typeof t === 'object' && t !== null && typeof t.provider === 'string'
    && typeof t.valid === 'boolean' && typeof t.quality === 'number' && t.quality >= 0 && t.quality <= 1);
}

async function readReport<T>(req: IncomingMessage, res: ServerResponse): Promise<T | undefined> {
  try {
    const parsed: unknown = JSON.parse((await readBody(req, MAX_REPORT_BYTES)).toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) return parsed as T;
  } catch (err) {
    if (!(err instanceof SyntaxError) && !(err instanceof BodyTooLargeError)) throw err;
  }
  sendGatewayError(res, 'openai', 400, 'bad-request', 'the body must be a JSON object');
  return undefined;
}

/** A route label for metrics: never the provider name or anything else from the path. */
function routeOf(url: string): string {
  const path = url.split('?')[0] ?? '';
  if (path.endsWith('/chat/completions')) return 'chat_completions';
  if (path.endsWith('/messages')) return 'messages';
  if (path === TASK_PATH) return 'task';
  if (path === OUTPUT_PATH) return 'output';
  if (path === FAILURE_PATH) return 'failure';
  return 'other';
}
