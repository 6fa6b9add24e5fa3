import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The gateway's metrics, on the operator's registry. */
export class GatewayMetrics {
  readonly calls: Counter<'provider' | 'model' | 'task_type' | 'result'>;
  readonly tokens: Counter<'provider' | 'direction'>;
  readonly cost: Counter<'provider'>;
  readonly duration: Histogram<'route' | 'code'>;
  readonly overhead: Histogram<'provider'>;
  readonly refusals: Counter<'kind'>;
  readonly reservations: Counter<'path'>;
  readonly cacheLookups: Counter<'provider' | 'result'>;
  readonly cachedTokens: Counter<'provider' | 'direction'>;
  readonly cacheBytes: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.calls = new Counter({
      name: 'startup_factory_ai_calls_total',
      help: 'Model calls through the gateway, by provider, model, task type and result (success, upstream_error, interrupted, unreachable).',
      labelNames: ['provider', 'model', 'task_type', 'result'],
      registers,
    });
    this.tokens = new Counter({
      name: 'startup_factory_ai_tokens_total',
      help: 'Tokens metered, by provider and direction (input, output).',
      labelNames: ['provider', 'direction'],
      registers,
    });
    this.cost = new Counter({
      name: 'startup_factory_ai_cost_usd_total',
      help: 'USD charged to budgets, by provider (interrupted calls at their reservation).',
      labelNames: ['provider'],
      registers,
    });
    this.duration = new Histogram({
      name: 'startup_factory_gateway_request_duration_seconds',
      help: 'Gateway requests from arrival to the last byte, by route and status code.',
      labelNames: ['route', 'code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.overhead = new Histogram({
      name: 'startup_factory_gateway_overhead_seconds',
      help: 'What the gateway adds to a model call before sending it upstream: authenticating the task, checking the body, the cache lookup and the worst case on record (the body\'s arrival, at the client\'s pace, and a wait for a place under the provider\'s maxConcurrency not counted; calls answered from the cache or refused not observed), by provider.',
      labelNames: ['provider'],
      buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    this.refusals = new Counter({
      name: 'startup_factory_budget_refusals_total',
      help: 'Calls refused because a budget would be exceeded, by kind (calls, cost).',
      labelNames: ['kind'],
      registers,
    });
    this.reservations = new Counter({
      name: 'startup_factory_budget_reservations_total',
      help: 'Model calls admitted by the budget, by path: spare (its worst case already on record, made ahead) or write (it waited for a ledger write of its own).',
      labelNames: ['path'],
      registers,
    });
    this.cacheLookups = new Counter({
      name: 'startup_factory_ai_cache_lookups_total',
      help: 'Model calls looked up in the response cache, by provider and result (hit: answered from it, free; miss: sent upstream).',
      labelNames: ['provider', 'result'],
      registers,
    });
    this.cachedTokens = new Counter({
      name: 'startup_factory_ai_cached_tokens_total',
      help: 'Tokens of the answers served from the response cache, by provider and direction (input, output): what hits saved.',
      labelNames: ['provider', 'direction'],
      registers,
    });
    this.cacheBytes = new Gauge({
      name: 'startup_factory_ai_cache_bytes',
      help: 'Bytes held by the response cache, against --cache-max-bytes.',
      registers,
    });
  }
}
