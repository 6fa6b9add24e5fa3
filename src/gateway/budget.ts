import type { Clock } from '../lib/clock.ts';
import type { BudgetView } from '../pipeline/controller.ts';
import { exhaustion } from './ledger.ts';
import type { LedgerStore } from './ledger-store.ts';

/** The pipeline's view of a startup's ledger: whether it may start work now, and what each task spent. */
export function budgetView(store: LedgerStore, clock: Clock): BudgetView {
  return {
    async snapshot(startup) {
      const state = await store.snapshot({ name: startup.metadata.name, uid: startup.metadata.uid ?? '' });
      const spent = exhaustion(state, clock.now());
      return {
        blocked: spent ? { until: spent.resetsAt, message: spent.message } : undefined,
        usage: (task) => state.tasks[task],
      };
    },
  };
}
