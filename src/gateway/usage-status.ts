import { API_GROUP_VERSION, formatUsd, type Startup, type StartupStatus } from '../api/index.ts';
import { ConditionType, setCondition, toKubeTime } from '../api/conditions.ts';
import { STARTUP_LEDGER } from '../api/status-owners.ts';
import type { Clock } from '../lib/clock.ts';
import type { Controller } from '../runtime/controller.ts';
import type { Informer } from '../runtime/informer.ts';
import type { Manager } from '../runtime/manager.ts';
import { applyOwnedStatus, ownedDiffers } from '../runtime/status.ts';
import { SPARE_PREFIX, roll, windowUsage, type LedgerState } from './ledger.ts';
import type { LedgerStore } from './ledger-store.ts';

/**
 * The ledger's part of a Startup's status: usage against the quota and whether a budget
 * ran out (with when it resets); the same object when nothing changed. A Startup that
 * never made a call gets no usage at all, so provisioning a thousand of them costs no
 * extra write.
 */
export function usageStatus(current: StartupStatus | undefined, generation: number, ledger: LedgerState, now: number): StartupStatus {
  const state = roll(ledger, now);
  // Spares are budget held ahead for calls not made yet (see addSpares), released when no call
  // comes: shown, they would make one call look like five. One a call took shows from its settlement.
  const window = windowUsage({ ...state, open: Object.fromEntries(Object.entries(state.open).filter(([id]) => !id.startsWith(SPARE_PREFIX))) });
  const used = state.totals.calls > 0 || state.totals.cachedCalls > 0 || Object.keys(state.open).length > 0 || state.exhausted !== undefined;
  if (!used && current?.usage === undefined) return current ?? {};
  const next: StartupStatus = {
    ...current,
    usage: {
      hourStartedAt: `${state.hour}:00:00Z`,
      callsThisHour: window.calls,
      day: state.day,
      costTodayUsd: formatUsd(state.costMicros),
      reservedUsd: formatUsd(window.reservedMicros),
      totalCalls: state.totals.calls,
      totalCachedCalls: state.totals.cachedCalls,
      totalInputTokens: state.totals.inputTokens,
      totalOutputTokens: state.totals.outputTokens,
      totalCostUsd: formatUsd(state.totals.costMicros),
    },
    conditions: setCondition(current?.conditions, state.exhausted
      ? {
        type: ConditionType.BudgetExceeded, status: 'True', observedGeneration: generation,
        reason: state.exhausted.kind === 'calls' ? 'CallsPerHourExceeded' : 'CostPerDayExceeded',
        message: `${state.exhausted.message}; resets at ${toKubeTime(new Date(state.exhausted.resetsAt))}`,
      }
      : { type: ConditionType.BudgetExceeded, status: 'False', reason: 'WithinBudget', message: 'within ai.quota', observedGeneration: generation },
    new Date(now)),
  };
  return ownedDiffers(current, next, STARTUP_LEDGER) ? next : current!;
}

/** When the shown usage changes with no call: the hour or day rolls over, or a spent budget comes back. */
function nextRollover(ledger: LedgerState, now: number): number | undefined {
  const candidates = [ledger.exhausted?.resetsAt];
  if (ledger.calls > 0 || Object.keys(ledger.open).length > 0) candidates.push((Math.floor(now / 3_600_000) + 1) * 3_600_000);
  if (ledger.costMicros > 0) candidates.push((Math.floor(now / 86_400_000) + 1) * 86_400_000);
  const times = candidates.filter((t): t is number => t !== undefined && t > now);
  return times.length > 0 ? Math.min(...times) : undefined;
}

/**
 * The ledger's status writer, under a field manager of its own: one write per second
 * at most per Startup however many calls settle, since every change re-enqueues with a
 * delay that the work queue folds into the one already pending.
 */
export function setupUsageStatusController(manager: Manager, deps: { startups: Informer<Startup>; ledger: LedgerStore; clock: Clock }): { controller: Controller; changed(startup: string): void } {
  const { startups, ledger, clock } = deps;
  const controller = manager.controller({
    name: 'usage',
    logKeyAs: 'startup',
    reconcile: async (name) => {
      const startup = startups.get(name);
      if (!startup || startup.metadata.deletionTimestamp) {
        // Its ledger went with it (garbage collection): forget what was loaded of it.
        ledger.retain(new Set(startups.list().map((s) => s.metadata.uid ?? '')));
        return;
      }
      const state = await ledger.snapshot({ name, uid: startup.metadata.uid ?? '' });
      const now = clock.now();
      const status = usageStatus(startup.status, startup.metadata.generation ?? 0, state, now);
      await applyOwnedStatus(manager.client, { apiVersion: API_GROUP_VERSION, kind: 'Startup', name }, STARTUP_LEDGER, startup.status, status);
      const at = nextRollover(state, now);
      return at === undefined ? undefined : { requeueAfter: at - now + 50 };
    },
  });
  // Usage changes come from the ledger (changed), not from the Startup: besides its coming and
  // going, only the periodic resync (the same object handed again) brings a Startup back here.
  const enqueue = (s: Startup) => controller.enqueue(s.metadata.name);
  startups.addHandlers({ add: enqueue, update: (s, old) => { if (s === old) enqueue(s); }, delete: enqueue });
  return { controller, changed: (startup) => controller.queue.addAfter(startup, 1_000) };
}
