/** What a converged pipeline leaves behind, read from the API server: for the suites that break things while pipelines run. */
import type { Startup } from '../../src/api/index.ts';
import type { KubeClient, KubeObject } from '../../src/kube/client.ts';
import { OUTPUT_LABEL, TASK_LABEL, outputConfigMapName } from '../../src/pipeline/names.ts';

type Job = KubeObject & { status?: { completionTime?: string; conditions?: { type: string; status: string; lastTransitionTime: string }[] } };

/**
 * What broke in a Startup whose pipeline converged, empty when nothing did: two attempts
 * of a task that overlapped (each must be created only after the one before ended, its Job
 * Complete or Failed once its pods are gone; one that never ended overlaps whatever came
 * after it), or a task in its status without its output stored.
 */
export async function pipelineProblems(client: KubeClient, s: Startup): Promise<string[]> {
  const namespace = `startup-${s.metadata.name}`;
  const problems: string[] = [];
  const byTask = new Map<string, [number, number][]>();
  for (const j of (await client.list<Job>('batch/v1', 'Job', { namespace })).items) {
    const task = j.metadata.labels?.[TASK_LABEL] ?? '';
    const end = j.status?.completionTime ?? j.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.lastTransitionTime;
    byTask.set(task, [...(byTask.get(task) ?? []), [Date.parse(j.metadata.creationTimestamp as string), end ? Date.parse(end) : Infinity]]);
  }
  for (const [task, spans] of byTask) {
    spans.sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < spans.length; k++) if (spans[k]![0] < spans[k - 1]![1]) problems.push(`${s.metadata.name}/${task}: attempt ${k + 1} started before attempt ${k} ended`);
  }
  const outputs = new Set((await client.list('v1', 'ConfigMap', { namespace, labelSelector: `${OUTPUT_LABEL}=true` })).items.map((c) => c.metadata.name));
  for (const t of s.status?.tasks ?? []) if (!outputs.has(outputConfigMapName(t.name))) problems.push(`${s.metadata.name}/${t.name}: no output stored`);
  return problems;
}
