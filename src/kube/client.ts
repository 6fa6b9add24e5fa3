import {
  HttpMethod, IsomorphicFetchHttpLibrary, RequestContext, ServerConfiguration, createConfiguration, wrapHttpLibrary,
  type Configuration, type HttpLibrary, type KubeConfig, type ResponseContext,
} from '@kubernetes/client-node';
import type { Metrics } from '../observability/metrics.ts';
import { sleep, systemClock, type Clock } from '../lib/clock.ts';
import { TokenBucket } from '../lib/rate-limit.ts';
import { ApiError, isNotFound } from './errors.ts';
import { retryAfterMs } from '../lib/retry-after.ts';
import { isDryRun, isMutating, requestVerb } from './request.ts';

/** The one field manager the operator applies with: it owns exactly the fields it sets. */
export const FIELD_MANAGER = 'startup-factory';

export interface OwnerReference { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }

/**
 * The metadata fields the runtime reads. Timestamps arrive as RFC 3339 strings on the wire;
 * they are `unknown` here so client-node's `V1ObjectMeta` (which claims `Date`) also fits.
 */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  creationTimestamp?: unknown;
  deletionTimestamp?: unknown;
  finalizers?: string[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface ListResult<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

export interface KubeClientOptions {
  qps: number;
  burst: number;
  metrics?: Metrics;
  clock?: Clock;
  /** How many times a 429 is retried (after its Retry-After) before it surfaces. */
  maxThrottleRetries?: number;
  /** Every request but a watch is abandoned after this long, so a dead connection cannot hang a reconcile (default 30 s). */
  requestTimeoutMs?: number;
  /** Another client's connections to the same API server, to share (default: a pool of its own). */
  connections?: ApiConnections;
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

/**
 * Asks for objects as metadata only (`PartialObjectMetadata`), as controller-runtime's
 * metadata watches do: an informer that needs to know which objects exist and what their
 * labels and annotations say need not hold their data in memory. A list and a watch
 * each need their own form: offered the list's, a watch answers with no events at all.
 */
export const METADATA_ONLY = {
  list: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
  watch: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
} as const;

interface ResourceInfo { name: string; namespaced: boolean }

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * What becomes of the requests in flight when connections are renewed: `finish` lets them
 * keep theirs until they end or time out (one request without an answer proves little of
 * the others); `abandon` fails them at once, for when the path itself is known dead (a
 * watch silent past its deadline), so that no reconcile or model call waits out its
 * timeout on it.
 */
export type InFlight = 'finish' | 'abandon';

/**
 * The kept-alive connections to one API server. The operator's clients share one pool, each
 * with a rate limit of its own, so that a pool found dead is renewed for all of them at
 * once: the gateway's ledger writes must not go on down connections a watch proved dead.
 */
export class ApiConnections {
  #dispatcher: Dispatcher | undefined;

  /**
   * The pool for a request that client-node gave `made`, a new Agent (so a new TLS
   * connection) per request: the first one serves every request, with kept-alive
   * connections, since the TLS options (CA, client certificate) are the kubeconfig's and
   * do not change. Credentials that do (tokens) travel in headers, applied per request.
   */
  adopt(made: Dispatcher): Dispatcher {
    this.#dispatcher ??= made;
    if (made !== this.#dispatcher) void made.close();
    return this.#dispatcher;
  }

  /** New requests go out on fresh connections; the old ones close when idle, or at once with `abandon`. */
  renew(inFlight: InFlight): void {
    const old = this.#dispatcher;
    this.#dispatcher = undefined;
    if (inFlight === 'abandon') void old?.destroy(new Error('connections to the API server renewed: they had gone silent'));
    else void old?.close();
  }
}

/**
 * Every API call the operator makes goes through here: one client-side rate limiter
 * (qps/burst), 429s retried after their Retry-After, and every request counted by verb and
 * status code, mutating ones separately so a test can prove a no-op reconcile writes
 * nothing. `configuration` plugs the same pipeline into client-node's typed APIs.
 */
export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly configuration: Configuration;
  private readonly bucket: TokenBucket;
  private readonly inner: HttpLibrary = new IsomorphicFetchHttpLibrary();
  private readonly clock: Clock;
  private readonly metrics: Metrics | undefined;
  private readonly maxThrottleRetries: number;
  private readonly requestTimeoutMs: number;
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();
  /** The connection pool every request shares, with every client given the same `connections`. */
  readonly connections: ApiConnections;
  private total = 0;
  private mutating = 0;

  constructor(kubeConfig: KubeConfig, options: KubeClientOptions) {
    this.kubeConfig = kubeConfig;
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics;
    this.maxThrottleRetries = options.maxThrottleRetries ?? 5;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.connections = options.connections ?? new ApiConnections();
    this.bucket = new TokenBucket(options.qps, options.burst, this.clock);
    this.configuration = createConfiguration({
      baseServer: new ServerConfiguration(this.server(), {}),
      authMethods: { default: kubeConfig },
      httpApi: wrapHttpLibrary({ send: (ctx) => this.send(ctx) }),
    });
  }

  /** A client-node typed API (`CoreV1Api`, ...) whose requests share this client's limiter and metrics. */
  api<T>(ApiClass: new (configuration: Configuration) => T): T {
    return new ApiClass(this.configuration);
  }

  /**
   * Starts new requests on fresh connections, this client's and every client's sharing
   * them, for when a connection in the pool has gone silently dead (a watch that went
   * quiet, a middlebox that dropped state).
   */
  renewConnections(inFlight: InFlight): void {
    this.connections.renew(inFlight);
  }

  /** Requests sent so far (retries included): `mutating` counts POST/PUT/PATCH/DELETE that are not dry runs. */
  requestCounts(): { total: number; mutating: number } {
    return { total: this.total, mutating: this.mutating };
  }

  async request<T>(method: keyof typeof HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(await this.context(method, path, options));
    const text = await res.body.text();
    const parsed = text ? parseJson(text) : undefined;
    if (res.httpStatusCode >= 400) throw toApiError(method, path, res.httpStatusCode, parsed, text);
    return parsed as T;
  }

  /**
   * Opens a watch on a collection path and yields its events as they arrive. The caller ends
   * it by aborting `signal` (informers do, from their watchdog) or when the server closes it.
   */
  async *watch<T>(path: string, query: Record<string, string | number | boolean | undefined>, signal: AbortSignal, accept?: string): AsyncGenerator<WatchEvent<T>> {
    const res = await this.send(await this.context('GET', path, { query: { ...query, watch: true }, signal, ...(accept ? { accept } : {}) }));
    if (res.httpStatusCode >= 400) {
      const text = await res.body.text();
      throw toApiError('GET', path, res.httpStatusCode, text ? parseJson(text) : undefined, text);
    }
    const stream = res.body.stream();
    if (!stream) return;
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) yield JSON.parse(line) as WatchEvent<T>;
      }
    }
  }

  /** The URL path of a kind's collection, or of one object when `name` is given (discovery is cached). */
  async resourcePath(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
    const info = await this.resourceInfo(apiVersion, kind);
    const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let path = prefix;
    if (info.namespaced && namespace) {
      path += `/namespaces/${encodeURIComponent(namespace)}`;
    } else if (info.namespaced && name !== undefined) {
      // A namespaced kind's collection may span all namespaces (informers); one object may not.
      throw new Error(`${kind} is namespaced: a namespace is required`);
    }
    path += `/${info.name}`;
    if (name !== undefined) path += `/${encodeURIComponent(name)}`;
    return path;
  }

  get<T extends KubeObject>(ref: ObjectRef): Promise<T> {
    return this.objectPath(ref).then((p) => this.request<T>('GET', p));
  }

  /** Like `get`, but undefined when the object does not exist. */
  async getOptional<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.get<T>(ref);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(
    apiVersion: string, kind: string,
    o: { namespace?: string; labelSelector?: string; fieldSelector?: string; signal?: AbortSignal; accept?: string } = {},
  ): Promise<ListResult<T>> {
    const path = await this.resourcePath(apiVersion, kind, o.namespace);
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      // Paged so a large cluster never produces one huge response.
      const page = await this.request<ListResult<T> & { kind?: string }>('GET', path, {
        query: { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: 500, continue: cont },
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.accept ? { accept: o.accept } : {}),
      });
      // List items come without apiVersion/kind; restore them so items are self-describing.
      for (const item of page.items ?? []) items.push({ ...item, apiVersion, kind });
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (cont);
    return { items, metadata: { resourceVersion } };
  }

  /**
   * `dryRun`: admission and storage judge it (AlreadyExists included) and nothing is
   * persisted or charged to a ResourceQuota; a real create charges the quota even when it
   * ends in AlreadyExists, until the quota controller recounts.
   */
  async create<T extends KubeObject>(obj: T, o: { fieldManager?: string; dryRun?: boolean } = {}): Promise<T> {
    const path = await this.resourcePath(obj.apiVersion, obj.kind, obj.metadata.namespace);
    return this.request<T>('POST', path, { body: obj, query: { fieldManager: o.fieldManager ?? FIELD_MANAGER, dryRun: o.dryRun ? 'All' : undefined } });
  }

  /** PUT with the object's resourceVersion: fails with 409 if someone wrote in between. */
  async replace<T extends KubeObject>(obj: T, o: { subresource?: 'status'; fieldManager?: string } = {}): Promise<T> {
    const path = await this.objectPath(refOf(obj));
    return this.request<T>('PUT', o.subresource ? `${path}/${o.subresource}` : path, {
      body: obj, query: { fieldManager: o.fieldManager ?? FIELD_MANAGER },
    });
  }

  /** Deletes; resolves false when the object was already gone. */
  async delete(ref: ObjectRef, o: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' } = {}): Promise<boolean> {
    const path = await this.objectPath(ref);
    try {
      await this.request('DELETE', path, { query: { propagationPolicy: o.propagationPolicy } });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async mergePatch<T extends KubeObject>(ref: ObjectRef, patch: unknown, o: { subresource?: 'status' } = {}): Promise<T> {
    const path = await this.objectPath(ref);
    return this.request<T>('PATCH', o.subresource ? `${path}/${o.subresource}` : path, {
      body: patch, contentType: 'application/merge-patch+json', query: { fieldManager: FIELD_MANAGER },
    });
  }

  /**
   * Server-side apply of `obj` (the fields we own, nothing else). With `force` our manager
   * takes over fields someone else changed by hand: that is how drift is reverted.
   */
  serverSideApply<T extends KubeObject>(obj: T, o: ApplyOptions = {}): Promise<T> {
    return this.apply(obj, o, undefined);
  }

  /** Server-side apply to the status subresource: spec and metadata in `obj` are ignored by the server. */
  applyStatus<T extends KubeObject>(obj: T, o: ApplyOptions = {}): Promise<T> {
    return this.apply(obj, o, 'status');
  }

  private async apply<T extends KubeObject>(obj: T, o: ApplyOptions, subresource: 'status' | undefined): Promise<T> {
    const path = await this.objectPath(refOf(obj));
    return this.request<T>('PATCH', subresource ? `${path}/${subresource}` : path, {
      body: obj,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: o.fieldManager ?? FIELD_MANAGER, force: o.force ?? true, dryRun: o.dryRun ? 'All' : undefined },
    });
  }

  private async context(method: keyof typeof HttpMethod, path: string, options: RequestOptions): Promise<RequestContext> {
    const url = new URL(this.server() + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), HttpMethod[method]);
    ctx.setHeaderParam('Accept', options.accept ?? 'application/json');
    if (options.body !== undefined) {
      ctx.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(options.body));
    }
    if (options.signal) ctx.setSignal(options.signal);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    // client-node makes a new undici Agent, so a new TLS connection, for every request:
    // 10 ms or more each, on every reconcile's path and every budget write.
    const dispatcher = ctx.getDispatcher();
    if (dispatcher) ctx.setDispatcher(this.connections.adopt(dispatcher));
    return ctx;
  }

  private objectPath(ref: ObjectRef): Promise<string> {
    return this.resourcePath(ref.apiVersion, ref.kind, ref.namespace, ref.name);
  }

  private server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    return cluster.server.replace(/\/$/, '');
  }

  private async resourceInfo(apiVersion: string, kind: string): Promise<ResourceInfo> {
    let info = (await this.discover(apiVersion, false)).get(kind);
    // A CRD installed after we first looked: refresh once before giving up.
    if (!info) info = (await this.discover(apiVersion, true)).get(kind);
    if (!info) throw new ApiError(404, `the server has no kind ${kind} in ${apiVersion}`, 'NotFound');
    return info;
  }

  private discover(apiVersion: string, refresh: boolean): Promise<Map<string, ResourceInfo>> {
    let cached = this.discovery.get(apiVersion);
    if (!cached || refresh) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      cached = this.request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>('GET', path).then(
        (list) => new Map(list.resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, { name: r.name, namespaced: r.namespaced }])),
        (err: unknown) => {
          if (isNotFound(err)) return new Map<string, ResourceInfo>();
          this.discovery.delete(apiVersion);
          throw err;
        },
      );
      this.discovery.set(apiVersion, cached);
    }
    return cached;
  }

  private async send(ctx: RequestContext): Promise<ResponseContext> {
    const method = ctx.getHttpMethod().toString();
    const verb = requestVerb(method, ctx.getUrl(), ctx.getHeaders()['Content-Type']);
    // Labelled only when set, so the series of real requests keep their two labels.
    const labels = isDryRun(ctx.getUrl()) ? { verb, dry_run: 'true' } : { verb };
    const callerSignal = ctx.getSignal();
    for (let attempt = 0; ; attempt++) {
      await sleep(this.clock, this.bucket.reserve(), callerSignal);
      callerSignal?.throwIfAborted();
      // The timeout starts once the limiter lets the request go, and also bounds reading its body.
      let timeout: AbortSignal | undefined;
      if (verb !== 'watch') {
        timeout = AbortSignal.timeout(this.requestTimeoutMs);
        ctx.setSignal(callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout);
      }
      this.total++;
      if (isMutating(method, ctx.getUrl())) this.mutating++;
      let res: ResponseContext;
      try {
        res = await this.inner.send(ctx).toPromise();
      } catch (err) {
        this.metrics?.apiRequests.inc({ ...labels, code: 'error' });
        // No answer in all that time: the connection it went out on is likely dead, and its pool siblings with it.
        if (timeout?.aborted) this.renewConnections('finish');
        throw err;
      }
      this.metrics?.apiRequests.inc({ ...labels, code: String(res.httpStatusCode) });
      if (res.httpStatusCode !== 429 || attempt >= this.maxThrottleRetries) return res;
      // API Priority and Fairness told us to slow down: wait as long as it asks, at most a minute.
      const wait = Math.min(60_000, retryAfterMs(res.headers['retry-after'], this.clock.now()));
      await res.body.text();
      await sleep(this.clock, wait, callerSignal);
    }
  }
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface ApplyOptions {
  fieldManager?: string;
  force?: boolean;
  dryRun?: boolean;
}

export function refOf(obj: KubeObject): ObjectRef {
  if (!obj.metadata.name) throw new Error(`${obj.kind} has no metadata.name`);
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}) };
}

function toApiError(method: string, path: string, code: number, parsed: unknown, text: string): ApiError {
  const status = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { message?: string; reason?: string };
  return new ApiError(code, `${method} ${path}: ${status.message ?? (text || `HTTP ${code}`)}`, status.reason, parsed);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
