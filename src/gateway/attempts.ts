import { parseStartupSpec, startupNamespace, type PipelineTask, type Startup, type StartupSpec, type StartupTemplate } from '../api/index.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { STARTUP_LABEL } from '../provisioning/metadata.ts';
import { pipelineOf, taskDefinition } from '../pipeline/dag.ts';
import { jobView, type JobView } from '../pipeline/job.ts';
import type { TokenKeyring } from '../pipeline/token.ts';
import type { Informer } from '../runtime/informer.ts';

/** A task attempt, as a token proves it: running now, for this startup and task. */
export type Attempt = {
  startup: Startup;
  spec: StartupSpec;
  template: StartupTemplate | undefined;
  job: JobView;
  /** The pipeline task the attempt runs (for a fan-out instance, the task it is an item of). */
  task: PipelineTask;
  namespace: string;
};

export type AttemptCaches = {
  startups: Informer<Startup>;
  templates: Informer<StartupTemplate>;
  jobs: Informer<KubeObject>;
};

/**
 * Turns a bearer token into the attempt it was minted for, or nothing. The signature
 * proves the operator minted it; the Job, looked up by name and uid, proves the attempt
 * is still on: a finished, failed or replaced attempt's token opens nothing, and neither
 * does one whose Startup is gone. A Job the cache has not seen yet (it was created a
 * moment ago) is read from the API server.
 */
export async function resolveAttempt(token: string | undefined, keyring: TokenKeyring, caches: AttemptCaches, client: KubeClient): Promise<Attempt | undefined> {
  if (!token) return undefined;
  const claims = await keyring.verify(token);
  if (!claims) return undefined;
  let job = caches.jobs.get(claims.job, claims.namespace);
  if (!job || job.metadata.uid !== claims.uid) {
    job = await client.getOptional<KubeObject>({ apiVersion: 'batch/v1', kind: 'Job', namespace: claims.namespace, name: claims.job });
  }
  if (!job || job.metadata.uid !== claims.uid || job.metadata.namespace !== claims.namespace) return undefined;
  return attemptOfJob(job, caches);
}

/** The attempt a Job runs, while it runs: one of a Startup's task Jobs, in its namespace, owned by it. */
export function attemptOfJob(job: KubeObject, caches: Omit<AttemptCaches, 'jobs'>): Attempt | undefined {
  const view = jobView(job);
  const name = job.metadata.labels?.[STARTUP_LABEL];
  const namespace = job.metadata.namespace ?? '';
  if (!view || view.state !== 'active' || !name || startupNamespace(name) !== namespace) return undefined;
  const startup = caches.startups.get(name);
  if (!startup || startup.metadata.deletionTimestamp || !job.metadata.ownerReferences?.some((o) => o.uid === startup.metadata.uid)) return undefined;
  const spec = parseStartupSpec(startup.spec);
  if (!spec.success) return undefined;
  const template = caches.templates.get(spec.data.template);
  const task = taskDefinition(pipelineOf(spec.data, template)?.tasks ?? [], view.task);
  if (!task) return undefined;
  return { startup, spec: spec.data, template, job: view, task, namespace };
}
