import { Counter, Histogram, type Registry } from 'prom-client';
import type { TaskType } from '../api/index.ts';
import type { Clock } from '../lib/clock.ts';
import { mulberry32, type Rng } from '../lib/random.ts';
import { providerPrices, type Ranker } from './candidates.ts';
import { DEFAULT_ROUTING_POLICY, rankProviders, type RoutingPolicy } from './routing.ts';
import type { TaskStats } from './stats.ts';

export type RouterDeps = {
  /** The evidence on a provider for a task type: the learning engine's, shared by every startup. */
  stats: (provider: string, type: TaskType) => TaskStats | undefined;
  clock: Clock;
  registry: Registry;
  rng?: Rng;
  policy?: RoutingPolicy;
};

/**
 * The routing decision as the scheduler and the gateway take it: the pure bandit
 * (`rankProviders`) over the providers' current evidence, with the process's own seeded
 * random stream, counted in metrics so the dashboard can show how tasks were shared.
 */
export class Router {
  readonly #d: RouterDeps;
  readonly #rng: Rng;
  readonly #decisions: Counter<'provider' | 'task_type'>;
  readonly #duration: Histogram;

  constructor(deps: RouterDeps) {
    this.#d = deps;
    this.#rng = deps.rng ?? mulberry32(Date.now() ^ process.pid);
    this.#decisions = new Counter({
      name: 'startup_factory_routing_decisions_total',
      help: 'Task attempts started on each provider by learned routing, by task type: how routing shares the work.',
      labelNames: ['provider', 'task_type'],
      registers: [deps.registry],
    });
    this.#duration = new Histogram({
      name: 'startup_factory_routing_decision_seconds',
      help: 'Time one routing decision takes.',
      buckets: [1e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 1e-2],
      registers: [deps.registry],
    });
  }

  /** The order to try providers in; each call draws afresh, so call it once per decision. */
  readonly rank: Ranker = (providers, type) => {
    const started = performance.now();
    const byName = new Map(providers.map((p) => [p.name, p]));
    const route = rankProviders(
      providers.map((p) => ({ name: p.name, prices: providerPrices(p.spec), stats: this.#d.stats(p.name, type) })),
      type, this.#rng, this.#d.clock.now(), this.#d.policy ?? DEFAULT_ROUTING_POLICY,
    );
    this.#duration.observe((performance.now() - started) / 1000);
    return route.order.map((n) => byName.get(n)!);
  };

  /** Counts the decision that started an attempt (a ranking that started nothing is not one). */
  chosen(provider: string, type: TaskType): void {
    this.#decisions.inc({ provider, task_type: type });
  }
}
