import { describe, expect, it } from 'vitest';
import { argoHealth } from '../support/argocd-health.ts';

type Cond = [type: string, status: 'True' | 'False', reason: string, message?: string];

function startup(phase: string | undefined, conditions: Cond[], generation = 2, observedGeneration = generation) {
  return {
    apiVersion: 'startupfactory.dev/v1alpha1',
    kind: 'Startup',
    metadata: { name: 's', generation },
    status: phase === undefined ? undefined : {
      phase,
      observedGeneration,
      conditions: conditions.map(([type, status, reason, message = reason]) => ({ type, status, reason, message, observedGeneration, lastTransitionTime: '2026-01-01T00:00:00Z' })),
    },
  };
}

const working: Cond[] = [['Ready', 'False', 'Running', '3/11 tasks done'], ['Reconciling', 'True', 'Running'], ['Stalled', 'False', 'NotStalled']];

describe('Argo CD health of a Startup', () => {
  it.each([
    ['Queued', [['Ready', 'False', 'Queued', 'waiting for a slot'], ['Reconciling', 'True', 'Queued'], ['Stalled', 'False', 'NotStalled']], 'Progressing', 'phase Queued: waiting for a slot'],
    ['Provisioning', [['Ready', 'False', 'Applying'], ['Reconciling', 'True', 'Applying'], ['Stalled', 'False', 'NotStalled']], 'Progressing', 'phase Provisioning: Applying'],
    ['Running', working, 'Progressing', 'phase Running: 3/11 tasks done'],
    ['Succeeded', [['Ready', 'True', 'Succeeded', 'every task succeeded'], ['Reconciling', 'False', 'ReconcileSucceeded'], ['Stalled', 'False', 'NotStalled']], 'Healthy', 'every task succeeded'],
    ['Failed', [['Ready', 'False', 'TaskFailed'], ['Reconciling', 'False', 'Stalled'], ['Stalled', 'True', 'TaskFailed', 'review failed: 401']], 'Degraded', 'TaskFailed: review failed: 401'],
    ['Suspended', [['Ready', 'False', 'Suspended'], ['Reconciling', 'True', 'Suspended'], ['Stalled', 'False', 'NotStalled']], 'Suspended', 'suspended by spec.suspend'],
    // Stalled before the pipeline ran: only a change elsewhere (a Ready provider, free ports) helps.
    ['Running', [['Ready', 'False', 'NoReadyProvider'], ['Reconciling', 'False', 'Stalled'], ['Stalled', 'True', 'NoReadyProvider', 'no Ready AIProvider']], 'Degraded', 'NoReadyProvider: no Ready AIProvider'],
    ['Provisioning', [['Ready', 'False', 'NodePortsExhausted'], ['Reconciling', 'False', 'Stalled'], ['Stalled', 'True', 'NodePortsExhausted', 'needs 3 node ports, 1 free']], 'Degraded', 'NodePortsExhausted: needs 3 node ports, 1 free'],
    ['Running', [...working, ['BudgetExceeded', 'True', 'CostPerDay', 'costPerDay 5 USD spent; resumes at 2026-01-02T00:00:00Z']], 'Suspended', 'costPerDay 5 USD spent; resumes at 2026-01-02T00:00:00Z'],
    ['Running', [...working, ['BudgetExceeded', 'False', 'WithinBudget']], 'Progressing', 'phase Running: 3/11 tasks done'],
  ] as [string, Cond[], string, string][])('%s with %j is %s', async (phase, conditions, status, message) => {
    expect(await argoHealth(startup(phase, conditions))).toEqual({ status, message });
  });

  it('is Progressing while the status is for an older generation, even a Succeeded one', async () => {
    const stale = startup('Succeeded', [['Ready', 'True', 'Succeeded'], ['Stalled', 'False', 'NotStalled']], 3, 2);
    expect(await argoHealth(stale)).toEqual({ status: 'Progressing', message: 'waiting for the operator to observe generation 3' });
    const failed = startup('Failed', [['Stalled', 'True', 'TaskFailed']], 3, 2);
    expect((await argoHealth(failed)).status).toBe('Progressing');
  });

  it('is Progressing before the operator wrote any status', async () => {
    expect((await argoHealth(startup(undefined, []))).status).toBe('Progressing');
  });
});

describe('Argo CD health of an AIProvider and a StartupTemplate', () => {
  const judged = (kind: string, status: 'True' | 'False', reason: string, message: string, generation = 1, observedGeneration = generation) => ({
    kind,
    metadata: { name: 'x', generation },
    status: { observedGeneration, conditions: [{ type: 'Ready', status, reason, message, observedGeneration }] },
  });

  it.each(['AIProvider', 'StartupTemplate'])('%s: Ready is Healthy, not Ready Degraded, unjudged or stale Progressing', async (kind) => {
    expect(await argoHealth(judged(kind, 'True', 'Valid', 'ok'))).toEqual({ status: 'Healthy', message: 'Valid: ok' });
    expect(await argoHealth(judged(kind, 'False', 'SecretNotFound', 'no Secret openai-api-key'))).toEqual({ status: 'Degraded', message: 'SecretNotFound: no Secret openai-api-key' });
    expect(await argoHealth(judged(kind, 'True', 'Valid', 'ok', 2, 1))).toEqual({ status: 'Progressing', message: 'waiting for the operator to check generation 2' });
    expect((await argoHealth({ kind, metadata: { name: 'x', generation: 1 } })).status).toBe('Progressing');
  });
});
