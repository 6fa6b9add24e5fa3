import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, fetch, type Response } from 'undici';
import { parseUsd, type AIProviderSpec } from '../api/index.ts';
import type { Prices } from '../api/money.ts';
import type { Clock } from '../lib/clock.ts';
import { Semaphore } from '../lib/semaphore.ts';
import type { Logger } from '../observability/logger.ts';
import { providerPrices, type ProviderView } from '../providers/candidates.ts';
import type { StartupRef } from '../provisioning/metadata.ts';
import type { Attempt } from './attempts.ts';
import { ResponseCache, cacheKey, type CachedAnswer } from './cache.ts';
import { BodyTooLargeError, readBody, sendGatewayError } from './http.ts';
import type { LedgerStore } from './ledger-store.ts';
import { SPARE_PREFIX, type Outcome } from './ledger.ts';
import { BadCallError, StreamMeter, costMicros, prepareCall, usageFromBody, worstCaseMicros, type PreparedCall, type TokenUsage, type WireFormat } from './metering.ts';
import type { GatewayMetrics } from './metrics.ts';
import { BUDGET_KIND_HEADER, BUDGET_RESETS_HEADER } from '../protocol/task.ts';
import type { ProviderKeys } from './keys.ts';

const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/** A non-streamed answer larger than this is not one a task can use. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Headers of an upstream answer worth passing on: the rest is the upstream's business. */
const PASSED_HEADERS = ['content-type', 'retry-after', 'retry-after-ms', 'x-request-id', 'request-id', 'x-should-retry'];
/** Errors where the request cannot have reached the upstream: nothing can have been billed. */
/** An attempt's Startup's budget windows, in integer micro-USD. */
function limitsOf(attempt: Attempt): { callsPerHour: number; costPerDayMicros: number } {
  const quota = attempt.spec.ai.quota;
  return { callsPerHour: quota.callsPerHour, costPerDayMicros: parseUsd(quota.costPerDay) };
}

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export function wireFormatOf(spec: AIProviderSpec): WireFormat {
  return spec.type === 'anthropic' ? 'anthropic' : 'openai';
}

/** Where a provider's format lives upstream (the official endpoints unless baseURL says otherwise). */
export function upstreamUrl(spec: AIProviderSpec): string {
  const base = (spec.baseURL ?? (spec.type === 'anthropic' ? 'https://api.anthropic.com' : 'https://api.openai.com/v1')).replace(/\/+$/, '');
  return spec.type === 'anthropic' ? `${base}/v1/messages` : `${base}/chat/completions`;
}

/** The offline provider's answer to a call: the assistant's text, made from the attempt's input. */
export type OfflineAnswer = (attempt: Attempt) => Promise<string>;

export type ModelProxyDeps = {
  ledger: LedgerStore;
  keys: ProviderKeys;
  metrics: GatewayMetrics;
  logger: Logger;
  clock: Clock;
  /** This process, the holder of the reservations it makes. */
  holder: string;
  offline: OfflineAnswer;
  /** Bounds of the response cache; either at 0 turns it off. */
  cache: { maxAgeMs: number; maxBytes: number };
  /** Told of every call that reached a provider: how long it took there and what it cost (the learning engine's evidence). */
  observe?: (attempt: Attempt, provider: string, call: { latencyMs: number; costMicros: number }) => void;
};

type Relay = { outcome: Outcome; result: string };

/**
 * Forwards one model call of a task attempt to its provider, metered: the worst case is
 * reserved (durably) before anything leaves, the call waits for a place under the
 * provider's maxConcurrency, goes out with the real key (which the task never sees), and
 * is settled from the usage the provider reports as the answer streams back. One
 * request is one upstream call: retries and fallbacks are the runner's, each a call of
 * its own, each reserved on its own. A call identical to one already answered is
 * answered from the response cache instead: no reservation, no slot, no upstream call,
 * nothing billed; except to the attempt that had that answer already, which is asking
 * again (see ResponseCache.get). Each provider's calls go out on a keep-alive connection
 * pool of its own.
 */
export class ModelProxy {
  readonly #d: ModelProxyDeps;
  readonly #slots = new Map<string, Semaphore>();
  readonly #inFlight = new Set<AbortController>();
  readonly #cache: ResponseCache | undefined;
  readonly #pools = new Map<string, { origin: string; connections: number; agent: Agent }>();

  constructor(deps: ModelProxyDeps) {
    this.#d = deps;
    this.#cache = deps.cache.maxAgeMs > 0 && deps.cache.maxBytes > 0 ? new ResponseCache({ ...deps.cache, clock: deps.clock }) : undefined;
  }

  /** Cuts every call still in flight (the leader is stepping down); each is charged at its reservation. */
  abortAll(): void {
    for (const c of this.#inFlight) c.abort(new Error('the gateway is stopping'));
  }

  /** Closes the upstream connections (after `abortAll`, nothing is left on them); the next call opens new ones. */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.agent.close()));
  }

  /** `arrived`: when the request reached the gateway (performance.now()), from which its overhead is measured. */
  async handle(req: IncomingMessage, res: ServerResponse, attempt: Attempt, provider: ProviderView, format: WireFormat, arrived = performance.now()): Promise<void> {
    const d = this.#d;
    let raw: Buffer;
    let call: PreparedCall;
    // The body comes at the client's pace, which is not the gateway's to count.
    const reading = performance.now();
    let read: number;
    try {
      raw = await readBody(req, MAX_REQUEST_BYTES);
      read = performance.now();
      call = prepareCall(format, raw, { maxTokensField: provider.spec.type === 'openai' ? 'max_completion_tokens' : 'max_tokens' });
    } catch (err) {
      if (err instanceof BadCallError || err instanceof BodyTooLargeError || err instanceof SyntaxError) {
        return sendGatewayError(res, format, 400, 'bad-request', (err as Error).message);
      }
      throw err;
    }
    const startup = { name: attempt.startup.metadata.name, uid: attempt.startup.metadata.uid ?? '' };
    let store: ((answer: CachedAnswer) => void) | undefined;
    const cache = this.#cache;
    // The offline provider is free and deterministic already: caching it would save nothing.
    if (cache && provider.spec.type !== 'offline') {
      const key = cacheKey({
        provider: provider.name, type: provider.spec.type, url: upstreamUrl(provider.spec), format, model: modelOf(call, provider),
        headers: format === 'anthropic' ? anthropicHeaders(req) : {}, body: call.body,
      });
      const hit = cache.get(key, attempt.job.uid);
      d.metrics.cacheLookups.inc({ provider: provider.name, result: hit ? 'hit' : 'miss' });
      d.metrics.cacheBytes.set(cache.bytes);
      if (hit) return this.#replay(res, startup, attempt, provider, hit);
      store = (answer) => {
        cache.set(key, answer, attempt.job.uid);
        d.metrics.cacheBytes.set(cache.bytes);
      };
    }
    const prices = providerPrices(provider.spec);
    const timeoutMs = provider.spec.timeoutSeconds * 1000;
    let reserved;
    try {
      reserved = await d.ledger.reserve(startup, limitsOf(attempt), {
        id: randomUUID(), task: attempt.job.task, holder: d.holder, costMicros: worstCaseMicros(call, prices), deadline: this.#deadline(provider),
      });
    } catch (err) {
      d.logger.warn({ err, startup: startup.name }, 'could not record a reservation; refusing the call');
      return sendGatewayError(res, format, 503, 'unavailable', 'the budget ledger cannot be written right now; try again', { 'retry-after': '2' });
    }
    if (reserved.ok) d.metrics.reservations.inc({ path: reserved.id.startsWith(SPARE_PREFIX) ? 'spare' : 'write' });
    if (!reserved.ok) {
      d.metrics.refusals.inc({ kind: reserved.refusal.kind });
      return sendGatewayError(res, format, 402, 'budget-exceeded', `budget exceeded: ${reserved.refusal.message}`, {
        [BUDGET_KIND_HEADER]: reserved.refusal.kind, [BUDGET_RESETS_HEADER]: new Date(reserved.refusal.resetsAt).toISOString(),
      });
    }

    const abort = new AbortController();
    const onClose = () => { if (!res.writableFinished) abort.abort(new Error('the client went away')); };
    res.on('close', onClose);
    this.#inFlight.add(abort);
    let relay: Relay;
    let release: (() => void) | undefined;
    let sent = 0;
    d.metrics.overhead.observe({ provider: provider.name }, (reading - arrived + performance.now() - read) / 1000);
    try {
      release = await this.#slot(provider.name).acquire(provider.spec.maxConcurrency, abort.signal);
      sent = performance.now();
      relay = provider.spec.type === 'offline'
        ? await this.#offline(res, attempt, provider, call, prices)
        : await this.#upstream(res, provider, format, call, prices, AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]), req, store);
    } catch (err) {
      // Cut while waiting for a place: it never left, nothing to charge. Cut after: what was billed is unknown.
      relay = { outcome: { kind: release ? 'interrupted' : 'released' }, result: 'interrupted' };
      d.logger.warn({ err, startup: startup.name, provider: provider.name }, 'model call interrupted');
      if (!res.headersSent) sendGatewayError(res, format, 502, 'upstream-unreachable', `the call to ${provider.name} was interrupted`);
      else res.destroy();
    } finally {
      release?.();
      this.#inFlight.delete(abort);
      res.off('close', onClose);
    }
    // On a spare, the reservation may be larger than this call could ever cost.
    const outcome: Outcome = relay.outcome.kind === 'interrupted' ? { kind: 'interrupted', worstCaseMicros: worstCaseMicros(call, prices) } : relay.outcome;
    d.ledger.settle(startup, reserved.id, outcome, attempt.job.task);
    this.#count(provider, call, attempt, relay);
    if (release && relay.outcome.kind !== 'released') {
      // An interrupted call is charged its reservation, so that is what it cost as far as anyone knows.
      const costMicros = relay.outcome.kind === 'usage' ? relay.outcome.costMicros : worstCaseMicros(call, prices);
      d.observe?.(attempt, provider.name, { latencyMs: performance.now() - sent, costMicros });
    }
  }

  /**
   * Reserves ahead, as spares, the worst case of the first call an attempt is about to make
   * (`requestBytes` of body, the task's output tokens) while its pod starts, so the call
   * goes out without waiting for a ledger write. The offline provider costs nothing.
   */
  async expect(attempt: Attempt, provider: ProviderView, requestBytes: number, maxOutputTokens: number): Promise<void> {
    if (provider.spec.type === 'offline') return;
    const d = this.#d;
    const costMicros = worstCaseMicros({ maxInputTokens: requestBytes, maxOutputTokens, cacheWrites: provider.spec.type === 'anthropic' }, providerPrices(provider.spec));
    const startup = { name: attempt.startup.metadata.name, uid: attempt.startup.metadata.uid ?? '' };
    await d.ledger.expect(startup, limitsOf(attempt), { id: randomUUID(), task: '', holder: d.holder, costMicros, deadline: this.#deadline(provider) });
  }

  /** How long a call's reservation lasts: waiting for a place counts against the timeout too; a minute's margin on top. */
  #deadline(provider: ProviderView): number {
    return this.#d.clock.now() + 2 * provider.spec.timeoutSeconds * 1000 + 60_000;
  }

  #slot(provider: string): Semaphore {
    let s = this.#slots.get(provider);
    if (!s) this.#slots.set(provider, (s = new Semaphore()));
    return s;
  }

  /**
   * Answers a call from the cache, exactly as the upstream did (a streamed answer as its
   * events, which the SDKs parse as they would the upstream's). It reached no provider:
   * nothing is reserved or billed, and the task's usage counts it as a cached call.
   */
  #replay(res: ServerResponse, startup: StartupRef, attempt: Attempt, provider: ProviderView, hit: CachedAnswer): void {
    res.writeHead(200, { 'content-type': hit.contentType, 'content-length': hit.body.byteLength });
    res.end(hit.body);
    this.#d.ledger.cacheHit(startup, attempt.job.task);
    const m = this.#d.metrics;
    m.cachedTokens.inc({ provider: provider.name, direction: 'input' }, hit.usage.inputTokens + hit.usage.cacheWriteTokens);
    m.cachedTokens.inc({ provider: provider.name, direction: 'output' }, hit.usage.outputTokens);
  }

  /**
   * The keep-alive connection pool of a provider's upstream, at most maxConcurrency
   * connections (its calls in flight never exceed that). Made anew when the provider
   * moves to another origin or changes its maxConcurrency; the old pool closes once
   * the calls still on it end.
   */
  #pool(provider: ProviderView, url: string): Agent {
    const origin = new URL(url).origin;
    const connections = provider.spec.maxConcurrency;
    const current = this.#pools.get(provider.name);
    if (current?.origin === origin && current.connections === connections) return current.agent;
    void current?.agent.close();
    // No idle or header timeouts of its own: each call's timeout (the provider's timeoutSeconds) bounds it,
    // and undici's five-minute defaults would cut a call the provider's timeout still allows.
    const agent = new Agent({ connections, headersTimeout: 0, bodyTimeout: 0 });
    this.#pools.set(provider.name, { origin, connections, agent });
    return agent;
  }

  #count(provider: ProviderView, call: PreparedCall, attempt: Attempt, relay: Relay): void {
    const m = this.#d.metrics;
    m.calls.inc({ provider: provider.name, model: modelOf(call, provider), task_type: attempt.task.type, result: relay.result });
    const o = relay.outcome;
    if (o.kind === 'usage') {
      m.tokens.inc({ provider: provider.name, direction: 'input' }, o.inputTokens);
      m.tokens.inc({ provider: provider.name, direction: 'output' }, o.outputTokens);
      m.cost.inc({ provider: provider.name }, o.costMicros / 1_000_000);
    }
  }

  /** Forwards the call and relays the answer as it comes; `store`, when given, keeps a complete successful answer for identical calls. */
  async #upstream(
    res: ServerResponse, provider: ProviderView, format: WireFormat, call: PreparedCall, prices: Prices, signal: AbortSignal, req: IncomingMessage,
    store: ((answer: CachedAnswer) => void) | undefined,
  ): Promise<Relay> {
    const key = await this.#d.keys.get(provider.name, provider.spec);
    if (!key) {
      sendGatewayError(res, format, 503, 'unavailable', `the API key of provider ${provider.name} cannot be read`);
      return { outcome: { kind: 'released' }, result: 'unreachable' };
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: call.stream ? 'text/event-stream' : 'application/json' };
    if (format === 'anthropic') {
      Object.assign(headers, anthropicHeaders(req));
      headers['x-api-key'] = key;
    } else {
      headers.authorization = `Bearer ${key}`;
    }
    let upstream: Response;
    const url = upstreamUrl(provider.spec);
    try {
      upstream = await fetch(url, { method: 'POST', headers, body: JSON.stringify(call.body), signal, dispatcher: this.#pool(provider, url) });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      sendGatewayError(res, format, 502, 'upstream-unreachable', `provider ${provider.name} is unreachable: ${code ?? (err as Error).message}`);
      return { outcome: code && NEVER_SENT.has(code) ? { kind: 'released' } : { kind: 'interrupted' }, result: 'unreachable' };
    }
    if (upstream.status === 401 || upstream.status === 403) this.#d.keys.invalidate(provider.name);
    const passed: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const value = upstream.headers.get(name);
      if (value) passed[name] = value;
    }
    res.writeHead(upstream.status, passed);
    const ok = upstream.status < 400;
    const streamed = ok && call.stream && (upstream.headers.get('content-type') ?? '').includes('text/event-stream');
    const meter = streamed ? new StreamMeter(format) : undefined;
    const save = upstream.status === 200 ? store : undefined;
    // The body is kept to read its usage from (not streamed) or to cache it.
    const keep = !meter || save !== undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of (upstream.body ?? []) as AsyncIterable<Uint8Array>) {
      const buf = Buffer.from(chunk);
      meter?.push(buf);
      if (keep && (size += buf.length) <= MAX_RESPONSE_BYTES) chunks.push(buf);
      if (!res.write(buf)) await drained(res);
    }
    res.end();
    // An upstream error bills nothing; an answer without usage is charged its reservation.
    if (!ok) return { outcome: { kind: 'usage', inputTokens: 0, outputTokens: 0, costMicros: 0 }, result: 'upstream_error' };
    const body = Buffer.concat(chunks);
    const usage = meter ? meter.result() : usageFromBody(format, body);
    if (!usage) return { outcome: { kind: 'interrupted' }, result: 'no_usage' };
    // Only a whole answer, received to its end with its usage, is worth replaying.
    if (save && size <= MAX_RESPONSE_BYTES) save({ contentType: upstream.headers.get('content-type') ?? 'application/json', body, usage });
    return { outcome: charged(usage, prices), result: 'success' };
  }

  /**
   * The offline provider answers in the OpenAI format, streamed or not, exactly as an
   * upstream would, so the runner's SDK path is the same; it is metered like any call
   * (at its AIProvider's prices, zero unless set) against the same budgets.
   */
  async #offline(res: ServerResponse, attempt: Attempt, provider: ProviderView, call: PreparedCall, prices: Prices): Promise<Relay> {
    const content = await this.#d.offline(attempt);
    const model = modelOf(call, provider);
    const usage = { inputTokens: Math.ceil(call.maxInputTokens / 4), outputTokens: Math.ceil(Buffer.byteLength(content) / 4), cacheWriteTokens: 0 };
    const id = `chatcmpl-offline-${randomUUID()}`;
    const created = Math.floor(this.#d.clock.now() / 1000);
    const openaiUsage = { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens };
    const base = { id, created, model, system_fingerprint: 'offline' };
    if (!call.stream) {
      const body = JSON.stringify({
        ...base, object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: openaiUsage,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const send = (chunk: object) => res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...chunk })}\n\n`);
      send({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: null });
      for (let i = 0; i < content.length; i += 2048) send({ choices: [{ index: 0, delta: { content: content.slice(i, i + 2048) }, finish_reason: null }], usage: null });
      send({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null });
      send({ choices: [], usage: openaiUsage });
      res.end('data: [DONE]\n\n');
    }
    return { outcome: charged(usage, prices), result: 'success' };
  }
}

/**
 * Resolves when the client may take more, or has gone: a client that leaves mid-answer
 * never drains, and waiting for it would hold the call, its slot and its reservation
 * until the gateway stops. Once it has gone, the upstream is cut (onClose) and the next
 * read of the body throws, so the call is settled as interrupted, or, if the upstream
 * had already sent everything, at the usage it reported.
 */
function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function charged(usage: TokenUsage, prices: Prices): Outcome {
  return { kind: 'usage', inputTokens: usage.inputTokens + usage.cacheWriteTokens, outputTokens: usage.outputTokens, costMicros: costMicros(usage, prices) };
}

function modelOf(call: PreparedCall, provider: ProviderView): string {
  return typeof call.body.model === 'string' ? call.body.model : provider.spec.model;
}

/** Anthropic's request headers that decide the answer, as they go upstream. */
function anthropicHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = { 'anthropic-version': header(req, 'anthropic-version') ?? '2023-06-01' };
  const beta = header(req, 'anthropic-beta');
  if (beta) headers['anthropic-beta'] = beta;
  return headers;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
