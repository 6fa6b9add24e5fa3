import { startupNamespace } from '../api/index.ts';
import type { KubeObject } from '../kube/client.ts';
import { childMetadata, type StartupRef } from '../provisioning/metadata.ts';
import { quarterOfQuota, type StartupResources } from '../provisioning/quota.ts';
import { TASK_SERVICE_ACCOUNT } from '../provisioning/service-account.ts';
import { GATEWAY_URL_ENV, JOB_ENDING_EXIT_CODES, TASK_TOKEN_ENV, type FailureKind } from '../protocol/task.ts';
import {
  ATTEMPT_LABEL, FAILURE_KIND_ANNOTATION, FAILURE_MESSAGE_ANNOTATION, FAILURE_REASON_ANNOTATION, PROVIDER_ANNOTATION, TASK_LABEL,
  jobName, tokenSecretName,
} from './names.ts';

export const TASK_CONTAINER = 'task';
export const TOKEN_KEY = 'token';
/** A finished attempt whose output is stored stays this long for `kubectl logs`, then goes (its token Secret with it). */
export const FINISHED_JOB_TTL_SECONDS = 300;
const UID = 10001;

export type AttemptSpec = {
  startup: StartupRef;
  resources: StartupResources;
  task: string;
  attempt: number;
  provider: string;
  image: string;
  gatewayUrl: string;
  deadlineSeconds: number;
};

/**
 * The Job of one task attempt. Created suspended: its token Secret is owned by the Job
 * (so it goes with it) and can only be made once the Job has a uid; the scheduler
 * resumes the Job once the Secret exists, so no pod ever starts without its token.
 *
 * The pod runs under the restricted Pod Security profile with no service-account token
 * (its only credential is the gateway token). `podFailurePolicy` ends the Job at once on
 * the runner's exit codes for failures retrying cannot fix, and ignores disruptions
 * (preemption, eviction, a drained node), which cost no retry; `podReplacementPolicy:
 * Failed` starts a replacement pod only once the previous one is gone, so one attempt
 * never runs twice at the same time.
 */
export function desiredJob(a: AttemptSpec): KubeObject {
  const name = jobName(a.task, a.attempt);
  const labels = { [TASK_LABEL]: a.task, [ATTEMPT_LABEL]: String(a.attempt) };
  const metadata = childMetadata(a.startup, name, startupNamespace(a.startup.name), labels);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { ...metadata, annotations: { [PROVIDER_ANNOTATION]: a.provider } },
    spec: {
      suspend: true,
      backoffLimit: 1,
      activeDeadlineSeconds: a.deadlineSeconds,
      podReplacementPolicy: 'Failed',
      podFailurePolicy: {
        rules: [
          { action: 'FailJob', onExitCodes: { containerName: TASK_CONTAINER, operator: 'In', values: [...JOB_ENDING_EXIT_CODES] } },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels: metadata.labels },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: TASK_SERVICE_ACCOUNT,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 10,
          securityContext: { runAsNonRoot: true, runAsUser: UID, runAsGroup: UID, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: TASK_CONTAINER,
            image: a.image,
            args: ['task', 'run'],
            env: [
              { name: GATEWAY_URL_ENV, value: a.gatewayUrl },
              { name: TASK_TOKEN_ENV, valueFrom: { secretKeyRef: { name: tokenSecretName(name), key: TOKEN_KEY } } },
            ],
            resources: quarterOfQuota(a.resources),
            terminationMessagePolicy: 'FallbackToLogsOnError',
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  };
}

/** The attempt's token, in a Secret its Job owns: deleted with the Job, never outliving the attempt. */
export function desiredTokenSecret(startup: StartupRef, job: { name: string; uid: string }, token: string): KubeObject {
  const metadata = childMetadata(startup, tokenSecretName(job.name), startupNamespace(startup.name));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { ...metadata, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.name, uid: job.uid, controller: true, blockOwnerDeletion: true }] },
    type: 'Opaque',
    stringData: { [TOKEN_KEY]: token },
  };
}

/** How an attempt's Job stands, from its conditions and the gateway's annotations. */
export type JobView = {
  name: string;
  uid: string;
  task: string;
  attempt: number;
  provider: string | undefined;
  /** `spec.suspend`: suspended Jobs hold no pod, so no slot. */
  suspended: boolean;
  state: 'active' | 'succeeded' | 'failed';
  createdAt: string | undefined;
  finishedAt: string | undefined;
  failure: { kind: FailureKind; reason: string; message: string } | undefined;
  ttlSet: boolean;
};

type JobObject = KubeObject & {
  spec?: { suspend?: boolean; ttlSecondsAfterFinished?: number };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[] };
};

const FAILURE_KINDS: readonly string[] = ['permanent', 'transient', 'budget', 'revoked'];

/**
 * A task Job as the scheduler sees it. Only `Complete` and `Failed` count as the end:
 * the Job controller sets them once every pod is gone, so a next attempt never overlaps
 * a pod of this one. A failure's kind comes from what the runner reported to the gateway
 * (the annotations), else from how the Job failed.
 */
export function jobView(job: JobObject): JobView | undefined {
  const task = job.metadata.labels?.[TASK_LABEL];
  const attempt = Number(job.metadata.labels?.[ATTEMPT_LABEL]);
  if (!task || !Number.isInteger(attempt) || attempt < 1) return undefined;
  const conditions = job.status?.conditions ?? [];
  const ended = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const complete = ended('Complete');
  const failed = ended('Failed');
  const annotations = job.metadata.annotations ?? {};
  const reportedKind = annotations[FAILURE_KIND_ANNOTATION];
  const failure = failed ? {
    kind: (reportedKind && FAILURE_KINDS.includes(reportedKind) ? reportedKind : 'transient') as FailureKind,
    reason: annotations[FAILURE_REASON_ANNOTATION] ?? failed.reason ?? 'JobFailed',
    message: annotations[FAILURE_MESSAGE_ANNOTATION] ?? failed.message ?? 'the attempt\'s Job failed',
  } : undefined;
  return {
    name: job.metadata.name ?? '',
    uid: job.metadata.uid ?? '',
    task,
    attempt,
    provider: annotations[PROVIDER_ANNOTATION],
    suspended: job.spec?.suspend === true,
    state: complete ? 'succeeded' : failed ? 'failed' : 'active',
    createdAt: typeof job.metadata.creationTimestamp === 'string' ? job.metadata.creationTimestamp : undefined,
    finishedAt: (complete ?? failed)?.lastTransitionTime,
    failure,
    ttlSet: job.spec?.ttlSecondsAfterFinished !== undefined,
  };
}

