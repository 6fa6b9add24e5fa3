import type { KubeClient } from '../kube/client.ts';
import type { Logger } from '../observability/logger.ts';
import type { LeaderRunnable } from '../runtime/manager.ts';

/** On the operator pod that leads; the chart's gateway Service selects it, so task calls reach the one replica that meters. */
export const LEADER_LABEL = 'startupfactory.dev/leader';

async function setLabel(client: KubeClient, namespace: string, pod: string, value: 'true' | 'false', log: Logger): Promise<void> {
  try {
    await client.mergePatch({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod }, { metadata: { labels: { [LEADER_LABEL]: value } } });
  } catch (err) {
    log.warn({ err, pod, value }, 'could not label the operator pod; the gateway Service may route to the wrong replica');
  }
}

/**
 * Labels this replica's pod as the leader while it leads. A replica that starts (a
 * restarted container keeps its pod's labels) first says it does not lead, so a stale
 * label never sends calls to a replica without the ledger; one that stops leading takes
 * the label off before the Lease goes.
 */
export function leaderPodLabel(client: KubeClient, namespace: string, pod: string, log: Logger): LeaderRunnable & { clear(): Promise<void> } {
  return {
    name: 'leader-pod-label',
    clear: () => setLabel(client, namespace, pod, 'false', log),
    start: () => setLabel(client, namespace, pod, 'true', log),
    stop: () => setLabel(client, namespace, pod, 'false', log),
  };
}
