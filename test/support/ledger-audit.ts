/**
 * The budget ledgers as the API server holds them, every version of them: a watch on the
 * ledger ConfigMaps of an operator's namespace records each state a ledger goes through
 * (each write is a compare-and-swap, so each is one watch event), and `auditLedger`
 * checks that history for what a budget promises: never more counted against a window
 * than its limit, and no call billed twice or billed without a reservation.
 */
import { expect } from 'vitest';
import { formatUsd } from '../../src/api/money.ts';
import { LEDGER_DATA_KEY, LEDGER_LABEL, ledgerName, type LedgerConfigMap } from '../../src/gateway/ledger-store.ts';
import { parseLedger, windowUsage, type LedgerState, type Limits } from '../../src/gateway/ledger.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { STARTUP_LABEL } from '../../src/provisioning/metadata.ts';
import type { Startup } from '../../src/api/index.ts';
import { waitFor } from './cluster.ts';
import type { TestFactory } from './factory.ts';

/**
 * What broke in one ledger's history (its states in order, the first one its creation),
 * empty when it held. Across each step (every version: see `LedgerWatch.gaps`):
 * - spending plus open reservations stay within the day's cost and the hour's calls;
 * - the calls billed grow by at most the number of reservations that closed, and the
 *   cost by at most what those reserved: more would be a call billed twice, or one
 *   billed that was never reserved (a reservation that is released bills nothing);
 * - a reservation once closed never opens again (it could be settled a second time).
 */
export function auditLedger(history: readonly LedgerState[], limits: Limits): string[] {
  const problems: string[] = [];
  const closed = new Set<string>();
  let before: Pick<LedgerState, 'open' | 'totals'> = { open: {}, totals: { calls: 0, cachedCalls: 0, inputTokens: 0, outputTokens: 0, costMicros: 0 } };
  history.forEach((state, i) => {
    const used = windowUsage(state);
    if (used.calls > limits.callsPerHour) problems.push(`state ${i}: ${used.calls} calls counted in the hour, over its ${limits.callsPerHour}`);
    if (used.costMicros + used.reservedMicros > limits.costPerDayMicros) {
      problems.push(`state ${i}: ${used.costMicros} µUSD spent and ${used.reservedMicros} reserved, over the day's ${limits.costPerDayMicros}`);
    }
    for (const id of Object.keys(state.open)) if (closed.has(id)) problems.push(`state ${i}: reservation ${id} is open again after it closed`);
    const closing = Object.keys(before.open).filter((id) => !(id in state.open));
    for (const id of closing) closed.add(id);
    const calls = state.totals.calls - before.totals.calls;
    const cost = state.totals.costMicros - before.totals.costMicros;
    const held = closing.reduce((sum, id) => sum + before.open[id]!.costMicros, 0);
    if (calls < 0 || cost < 0) problems.push(`state ${i}: the totals went down (${calls} calls, ${cost} µUSD)`);
    if (calls > closing.length) problems.push(`state ${i}: ${calls} calls billed but ${closing.length} reservations closed`);
    if (cost > held) problems.push(`state ${i}: ${cost} µUSD billed but the reservations that closed held ${held}`);
    before = state;
  });
  return problems;
}

/** Records every version of the ledgers in `namespace`, by startup, until stopped. */
export class LedgerWatch {
  /** Each startup's ledger states, in the order the API server wrote them. */
  readonly histories = new Map<string, LedgerState[]>();
  /**
   * Times the watch had to start over from a fresh list, skipping versions: a reservation
   * opened and closed in between would look like a call billed without one, so an audit
   * is only sound with none.
   */
  gaps = 0;
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #abort = new AbortController();
  readonly #seen = new Map<string, string>();
  #running: Promise<void> | undefined;

  private constructor(client: KubeClient, namespace: string) {
    this.#client = client;
    this.#namespace = namespace;
  }

  /** Resolves once the ledgers that exist now are recorded and the watch is on. */
  static async start(client: KubeClient, namespace: string): Promise<LedgerWatch> {
    const watch = new LedgerWatch(client, namespace);
    const rv = await watch.#list();
    watch.#running = watch.#loop(rv);
    return watch;
  }

  history(startup: string): LedgerState[] {
    return this.histories.get(startup) ?? [];
  }

  /** The ledger as last written, or undefined before its first write. */
  latest(startup: string): LedgerState | undefined {
    return this.history(startup).at(-1);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #list(): Promise<string | undefined> {
    const list = await this.#client.list<LedgerConfigMap>('v1', 'ConfigMap', { namespace: this.#namespace, labelSelector: `${LEDGER_LABEL}=true` });
    for (const cm of list.items) this.#record(cm);
    return list.metadata.resourceVersion;
  }

  async #loop(from: string | undefined): Promise<void> {
    const path = await this.#client.resourcePath('v1', 'ConfigMap', this.#namespace);
    let rv = from;
    while (!this.#abort.signal.aborted) {
      try {
        if (rv === undefined) {
          this.gaps++;
          rv = await this.#list();
        }
        const events = this.#client.watch<LedgerConfigMap>(path, { labelSelector: `${LEDGER_LABEL}=true`, resourceVersion: rv, allowWatchBookmarks: true }, this.#abort.signal);
        for await (const event of events) {
          // An ERROR event is a 410 Gone: the version is too old to resume from.
          if (event.type === 'ERROR') { rv = undefined; break; }
          rv = event.object.metadata.resourceVersion;
          if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#record(event.object);
        }
      } catch {
        if (this.#abort.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  #record(cm: LedgerConfigMap): void {
    const startup = cm.metadata.labels?.[STARTUP_LABEL];
    const data = cm.data?.[LEDGER_DATA_KEY];
    if (!startup || data === undefined || this.#seen.get(startup) === cm.metadata.resourceVersion) return;
    this.#seen.set(startup, cm.metadata.resourceVersion!);
    const history = this.histories.get(startup) ?? [];
    history.push(parseLedger(data));
    this.histories.set(startup, history);
  }
}

/**
 * Waits until a Startup's ledger is at rest (no reservation open, as last written) and its
 * status shows what that ledger holds; returns both. On a timeout it says what it last saw,
 * the ledger as stored included (a watch that fell behind would show there).
 */
export async function waitForSettled(factory: TestFactory, ledgers: LedgerWatch, name: string, timeoutMs = 60_000): Promise<{ startup: Startup; ledger: LedgerState }> {
  let seen = {};
  try {
    return await waitFor(`${name}'s ledger to settle`, async () => {
      const startup = await factory.get(name);
      const ledger = ledgers.latest(name);
      const usage = startup.status?.usage;
      seen = { usage, open: ledger?.open, totals: ledger?.totals, versions: ledgers.history(name).length, at: new Date().toISOString() };
      return usage?.reservedUsd === '0.000000' && ledger && Object.keys(ledger.open).length === 0
        && usage.totalCostUsd === formatUsd(ledger.totals.costMicros) && usage.totalCalls === ledger.totals.calls && { startup, ledger };
    }, timeoutMs);
  } catch (err) {
    const stored = await factory.client.getOptional<LedgerConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: factory.namespace, name: ledgerName(name) });
    throw new Error(`${(err as Error).message}; last seen ${JSON.stringify(seen)}; stored ${stored?.metadata.resourceVersion}: ${stored?.data?.[LEDGER_DATA_KEY]}`);
  }
}

/**
 * Waits for each Startup's ledger to settle and checks its every version (`auditLedger`),
 * with no version skipped; returns the calls billed in all, to hold against what the
 * provider answered.
 */
export async function expectLedgersHeld(factory: TestFactory, ledgers: LedgerWatch, names: readonly string[], limits: Limits): Promise<number> {
  let billed = 0;
  for (const name of names) {
    const { ledger } = await waitForSettled(factory, ledgers, name, 90_000);
    expect(auditLedger(ledgers.history(name), limits), name).toEqual([]);
    billed += ledger.totals.calls;
  }
  expect(ledgers.gaps).toBe(0);
  return billed;
}
