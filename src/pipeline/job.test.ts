import { describe, expect, it } from 'vitest';
import { API_GROUP_VERSION } from '../api/index.ts';
import type { KubeObject } from '../kube/client.ts';
import { quarterOfQuota } from '../provisioning/quota.ts';
import { bytes, cpuMillis } from '../provisioning/quantity.ts';
import { GATEWAY_URL_ENV, JOB_ENDING_EXIT_CODES, TASK_TOKEN_ENV } from '../protocol/task.ts';
import { TASK_CONTAINER, TOKEN_KEY, desiredJob, desiredTokenSecret, jobView, type AttemptSpec } from './job.ts';
import { ATTEMPT_LABEL, FAILURE_KIND_ANNOTATION, FAILURE_MESSAGE_ANNOTATION, FAILURE_REASON_ANNOTATION, PROVIDER_ANNOTATION, TASK_LABEL } from './names.ts';

const startup = { name: 'acme', uid: 'startup-uid-1' };
const spec: AttemptSpec = {
  startup,
  resources: { cpu: '500m', memory: '512Mi', storage: '2Gi' },
  task: 'market-research',
  attempt: 2,
  provider: 'openai',
  image: 'ghcr.io/startup-factory/operator:1.2.3',
  gatewayUrl: 'http://startup-factory-gateway.startup-factory.svc:8080',
  deadlineSeconds: 900,
};

/** The parts of a Job these tests read, loosely typed the way the manifest is. */
type Container = {
  name: string;
  env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  resources: unknown;
  securityContext: { allowPrivilegeEscalation?: boolean; privileged?: boolean; capabilities?: { drop?: string[]; add?: string[] }; runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  ports?: { hostPort?: number }[];
};
type PodSpec = {
  restartPolicy: string;
  automountServiceAccountToken: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Record<string, unknown>[];
};
type JobSpec = {
  suspend: boolean;
  activeDeadlineSeconds: number;
  podReplacementPolicy: string;
  podFailurePolicy: { rules: { action: string; onExitCodes?: { containerName?: string; operator: string; values: number[] }; onPodConditions?: { type: string; status: string }[] }[] };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
};
const jobSpec = (job: KubeObject) => job.spec as JobSpec;
const podSpec = (job: KubeObject) => jobSpec(job).template.spec;

describe('desiredJob', () => {
  const job = desiredJob(spec);

  it('is a suspended batch/v1 Job named <task>-<attempt> in the startup\'s namespace', () => {
    expect(job).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'market-research-2', namespace: 'startup-acme' } });
    expect(jobSpec(job).suspend).toBe(true);
  });

  it('is owned by its Startup through a controller owner reference', () => {
    expect(job.metadata.ownerReferences).toEqual([
      { apiVersion: API_GROUP_VERSION, kind: 'Startup', name: 'acme', uid: 'startup-uid-1', controller: true, blockOwnerDeletion: true },
    ]);
  });

  it('labels the Job and its pods with the task and the attempt, and records the provider', () => {
    expect(job.metadata.labels).toMatchObject({ [TASK_LABEL]: 'market-research', [ATTEMPT_LABEL]: '2' });
    expect(jobSpec(job).template.metadata.labels).toMatchObject({ [TASK_LABEL]: 'market-research', [ATTEMPT_LABEL]: '2' });
    expect(job.metadata.annotations?.[PROVIDER_ANNOTATION]).toBe('openai');
  });

  it('runs its pod under the restricted Pod Security profile', () => {
    const pod = podSpec(job);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.securityContext.seccompProfile?.type).toBe('RuntimeDefault');
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.hostPID ?? false).toBe(false);
    expect(pod.hostIPC ?? false).toBe(false);
    const containers = [...pod.containers, ...(pod.initContainers ?? [])];
    expect(containers.length).toBeGreaterThan(0);
    for (const c of containers) {
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(c.securityContext.privileged ?? false).toBe(false);
      expect(c.securityContext.capabilities?.drop).toEqual(['ALL']);
      expect(c.securityContext.capabilities?.add ?? []).toEqual([]);
      for (const p of c.ports ?? []) expect(p.hostPort).toBeUndefined();
    }
    for (const v of pod.volumes ?? []) expect(v).not.toHaveProperty('hostPath');
  });

  it('mounts no service-account token and never restarts a container in place', () => {
    expect(podSpec(job).automountServiceAccountToken).toBe(false);
    expect(podSpec(job).restartPolicy).toBe('Never');
  });

  it('replaces a pod only once the previous one failed, bounded by the attempt\'s deadline', () => {
    expect(jobSpec(job).podReplacementPolicy).toBe('Failed');
    expect(jobSpec(job).activeDeadlineSeconds).toBe(900);
    expect(jobSpec(desiredJob({ ...spec, deadlineSeconds: 42 })).activeDeadlineSeconds).toBe(42);
  });

  it('fails the Job at once on exactly the runner\'s job-ending exit codes and ignores disruptions', () => {
    const rules = jobSpec(job).podFailurePolicy.rules;
    const failJob = rules.filter((r) => r.action === 'FailJob');
    expect(failJob).toHaveLength(1);
    expect(failJob[0]?.onExitCodes).toEqual({ containerName: TASK_CONTAINER, operator: 'In', values: [...JOB_ENDING_EXIT_CODES] });
    expect([...(failJob[0]?.onExitCodes?.values ?? [])].sort((x, y) => x - y)).toEqual([2, 3, 4, 5]);
    expect(rules).toContainEqual({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] });
    expect(podSpec(job).containers.map((c) => c.name)).toContain(TASK_CONTAINER);
  });

  it('asks for a quarter of the startup\'s quota, so four attempts fit in it', () => {
    for (const resources of [spec.resources, { cpu: '2', memory: '1Gi', storage: '1Gi' }, { cpu: '750m', memory: '1000Mi', storage: '1Gi' }]) {
      const container = podSpec(desiredJob({ ...spec, resources })).containers[0]!;
      const quarter = quarterOfQuota(resources);
      expect(container.resources).toEqual(quarter);
      expect(4 * cpuMillis(quarter.limits.cpu)).toBeLessThanOrEqual(cpuMillis(resources.cpu));
      expect(4 * bytes(quarter.limits.memory)).toBeLessThanOrEqual(bytes(resources.memory));
      expect(cpuMillis(quarter.requests.cpu)).toBeLessThanOrEqual(cpuMillis(quarter.limits.cpu));
      expect(bytes(quarter.requests.memory)).toBeLessThanOrEqual(bytes(quarter.limits.memory));
    }
  });

  it('passes the gateway URL as a value and the token only by reference to its Secret', () => {
    const env = podSpec(job).containers[0]!.env;
    expect(env.find((e) => e.name === GATEWAY_URL_ENV)).toEqual({ name: GATEWAY_URL_ENV, value: spec.gatewayUrl });
    expect(env.find((e) => e.name === TASK_TOKEN_ENV)).toEqual({
      name: TASK_TOKEN_ENV, valueFrom: { secretKeyRef: { name: 'market-research-2-token', key: TOKEN_KEY } },
    });
    for (const e of env) if (e.name !== GATEWAY_URL_ENV) expect(e.value).toBeUndefined();
  });

  it('holds no literal token anywhere', () => {
    const token = 'sft1.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl';
    const secret = desiredTokenSecret(startup, { name: 'market-research-2', uid: 'job-uid' }, token);
    const text = JSON.stringify(job);
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/sft1\./);
    expect(JSON.stringify(secret)).toContain(token);
  });
});

describe('desiredTokenSecret', () => {
  const secret = desiredTokenSecret(startup, { name: 'market-research-2', uid: 'job-uid-9' }, 'the-token');

  it('is named after its Job, in the startup\'s namespace, holding the token under its key', () => {
    expect(secret).toMatchObject({
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
      metadata: { name: 'market-research-2-token', namespace: 'startup-acme' },
      stringData: { [TOKEN_KEY]: 'the-token' },
    });
  });

  it('is owned by its Job alone (name and uid), so it goes with it', () => {
    expect(secret.metadata.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: 'market-research-2', uid: 'job-uid-9', controller: true, blockOwnerDeletion: true },
    ]);
  });

  it('is the Secret the Job\'s env refers to', () => {
    const ref = podSpec(desiredJob(spec)).containers[0]!.env.find((e) => e.name === TASK_TOKEN_ENV)?.valueFrom?.secretKeyRef;
    expect(ref?.name).toBe(secret.metadata.name);
    expect(Object.keys(secret.stringData as Record<string, string>)).toContain(ref?.key);
  });
});

type Cond = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string };
function liveJob(o: { conditions?: Cond[]; annotations?: Record<string, string>; labels?: Record<string, string>; suspend?: boolean; ttl?: number } = {}) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'market-research-2', uid: 'job-uid', namespace: 'startup-acme', creationTimestamp: '2026-12-01T10:00:00Z',
      labels: o.labels ?? { [TASK_LABEL]: 'market-research', [ATTEMPT_LABEL]: '2' },
      annotations: { [PROVIDER_ANNOTATION]: 'anthropic', ...o.annotations },
    },
    spec: { suspend: o.suspend ?? false, ...(o.ttl === undefined ? {} : { ttlSecondsAfterFinished: o.ttl }) },
    status: { conditions: o.conditions ?? [] },
  };
}
const at = '2026-12-01T10:05:00Z';

describe('jobView', () => {
  it('reads a running Job as active, with its task, attempt, provider and creation time', () => {
    expect(jobView(liveJob())).toEqual({
      name: 'market-research-2', uid: 'job-uid', task: 'market-research', attempt: 2, provider: 'anthropic', suspended: false,
      state: 'active', createdAt: '2026-12-01T10:00:00Z', finishedAt: undefined, failure: undefined, ttlSet: false,
    });
  });

  it('reports suspension and a set TTL', () => {
    expect(jobView(liveJob({ suspend: true, ttl: 300 }))).toMatchObject({ suspended: true, ttlSet: true });
  });

  it('reads Complete=True as succeeded, finished when the condition turned', () => {
    const view = jobView(liveJob({ conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True', lastTransitionTime: at }] }));
    expect(view).toMatchObject({ state: 'succeeded', finishedAt: at, failure: undefined });
  });

  it('does not take SuccessCriteriaMet or FailureTarget alone as the end: pods may still be terminating', () => {
    expect(jobView(liveJob({ conditions: [{ type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: at }] }))).toMatchObject({ state: 'active', finishedAt: undefined });
    expect(jobView(liveJob({ conditions: [{ type: 'FailureTarget', status: 'True', reason: 'PodFailurePolicy', lastTransitionTime: at }] })))
      .toMatchObject({ state: 'active', finishedAt: undefined, failure: undefined });
  });

  it('ignores Complete or Failed conditions that are not True', () => {
    expect(jobView(liveJob({ conditions: [{ type: 'Complete', status: 'False' }, { type: 'Failed', status: 'Unknown' }] }))?.state).toBe('active');
  });

  it('takes a failure\'s kind, reason and message from the gateway\'s annotations', () => {
    const view = jobView(liveJob({
      conditions: [{ type: 'FailureTarget', status: 'True' }, { type: 'Failed', status: 'True', reason: 'PodFailurePolicy', message: 'container exited 3', lastTransitionTime: at }],
      annotations: { [FAILURE_KIND_ANNOTATION]: 'permanent', [FAILURE_REASON_ANNOTATION]: 'Unauthorized', [FAILURE_MESSAGE_ANNOTATION]: 'openai answered 401' },
    }));
    expect(view).toMatchObject({ state: 'failed', finishedAt: at, failure: { kind: 'permanent', reason: 'Unauthorized', message: 'openai answered 401' } });
  });

  it('reads each reported failure kind', () => {
    for (const kind of ['permanent', 'transient', 'budget', 'revoked']) {
      const view = jobView(liveJob({ conditions: [{ type: 'Failed', status: 'True' }], annotations: { [FAILURE_KIND_ANNOTATION]: kind } }));
      expect(view?.failure?.kind).toBe(kind);
    }
  });

  it('defaults an unreported failure to transient with the Job condition\'s reason and message', () => {
    const view = jobView(liveJob({ conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline', lastTransitionTime: at }] }));
    expect(view?.failure).toEqual({ kind: 'transient', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
  });

  it('treats an unknown reported kind as transient', () => {
    const view = jobView(liveJob({ conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }], annotations: { [FAILURE_KIND_ANNOTATION]: 'catastrophic' } }));
    expect(view?.failure).toMatchObject({ kind: 'transient', reason: 'BackoffLimitExceeded' });
  });

  it('has a failure reason and message even when neither the gateway nor the condition gives one', () => {
    const failure = jobView(liveJob({ conditions: [{ type: 'Failed', status: 'True' }] }))?.failure;
    expect(failure?.kind).toBe('transient');
    expect(failure?.reason).toBe('JobFailed');
    expect(failure?.message.length).toBeGreaterThan(0);
  });

  it('is undefined for a Job without a task or a valid attempt label', () => {
    expect(jobView(liveJob({ labels: {} }))).toBeUndefined();
    expect(jobView(liveJob({ labels: { [TASK_LABEL]: 'market-research' } }))).toBeUndefined();
    expect(jobView(liveJob({ labels: { [ATTEMPT_LABEL]: '2' } }))).toBeUndefined();
    expect(jobView(liveJob({ labels: { [TASK_LABEL]: 'market-research', [ATTEMPT_LABEL]: 'two' } }))).toBeUndefined();
    expect(jobView(liveJob({ labels: { [TASK_LABEL]: 'market-research', [ATTEMPT_LABEL]: '0' } }))).toBeUndefined();
  });

  it('reads back the Job desiredJob makes', () => {
    expect(jobView(desiredJob(spec))).toMatchObject({ name: 'market-research-2', task: 'market-research', attempt: 2, provider: 'openai', suspended: true, state: 'active' });
  });
});
