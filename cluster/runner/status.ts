import type { V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { NODE_IP } from './network.ts';

export type Terminated = {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: Date;
  finishedAt: Date;
};

export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: Date }
  | { kind: 'terminated'; terminated: Terminated };

export type ContainerRun = {
  name: string;
  image: string;
  restartCount: number;
  state: ContainerState;
  lastTerminated?: Terminated;
};

export type PodRun = {
  startedAt: Date;
  /** The pod's own address (network.ts). */
  ip: string;
  init: ContainerRun[];
  main: ContainerRun[];
  /** Set when the pod is ended from outside its containers (deadline, deletion, lost process). */
  ended?: { reason: string; message: string };
};

type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

const terminated = (c: ContainerRun) => (c.state.kind === 'terminated' ? c.state.terminated : undefined);

/** The pod phase the kubelet would report for these containers under this restart policy. */
export function podPhase(run: PodRun, restartPolicy: string): Phase {
  const mainDone = run.main.map(terminated);
  const allDone = mainDone.every((t) => t !== undefined);
  const initFailed = run.init.some((c) => (terminated(c)?.exitCode ?? 0) !== 0 && restartPolicy === 'Never');
  if (run.ended || initFailed) {
    return allDone && mainDone.every((t) => t?.exitCode === 0) && !initFailed ? 'Succeeded' : 'Failed';
  }
  if (allDone) {
    if (mainDone.every((t) => t?.exitCode === 0)) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
  }
  const initDone = run.init.every((c) => terminated(c)?.exitCode === 0);
  return initDone ? 'Running' : 'Pending';
}

/** Ready as the kubelet says it with no readiness probe: running, every container up. */
export function podReady(run: PodRun, restartPolicy: string): boolean {
  return podPhase(run, restartPolicy) === 'Running' && run.main.every((c) => c.state.kind === 'running');
}

function containerStatus(c: ContainerRun, podUid: string): V1ContainerStatus {
  const toTerminated = (t: Terminated) => ({
    exitCode: t.exitCode, signal: t.signal, reason: t.reason, message: t.message,
    startedAt: t.startedAt, finishedAt: t.finishedAt, containerID: `local://${podUid}/${c.name}`,
  });
  const state = c.state.kind === 'waiting'
    ? { waiting: { reason: c.state.reason, message: c.state.message } }
    : c.state.kind === 'running' ? { running: { startedAt: c.state.startedAt } } : { terminated: toTerminated(c.state.terminated) };
  return {
    name: c.name,
    image: c.image,
    imageID: `local://${c.image}`,
    containerID: c.state.kind === 'waiting' ? undefined : `local://${podUid}/${c.name}`,
    ready: c.state.kind === 'running',
    started: c.state.kind === 'running',
    restartCount: c.restartCount,
    state,
    lastState: c.lastTerminated ? { terminated: toTerminated(c.lastTerminated) } : {},
  };
}

function condition(type: string, ok: boolean, now: Date, previous: V1PodCondition[], reason?: string): V1PodCondition {
  const status = ok ? 'True' : 'False';
  const before = previous.find((c) => c.type === type);
  // A condition's transition time moves only when its status flips.
  const lastTransitionTime = before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : now;
  return { type, status, lastTransitionTime, lastProbeTime: undefined, ...(reason && !ok ? { reason } : {}) };
}

/** The whole status a kubelet would write, keeping conditions other controllers own (e.g. DisruptionTarget). */
export function podStatus(pod: V1Pod, run: PodRun, now: Date): V1PodStatus {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const phase = podPhase(run, restartPolicy);
  const previous = pod.status?.conditions ?? [];
  const uid = pod.metadata?.uid ?? '';
  const initDone = run.init.every((c) => terminated(c)?.exitCode === 0);
  const ready = podReady(run, restartPolicy);
  const notReadyReason = phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady';
  const ours = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready', 'PodReadyToStartContainers'];
  return {
    phase,
    reason: run.ended?.reason,
    message: run.ended?.message,
    hostIP: NODE_IP,
    hostIPs: [{ ip: NODE_IP }],
    podIP: run.ip,
    podIPs: [{ ip: run.ip }],
    startTime: run.startedAt,
    qosClass: pod.status?.qosClass,
    conditions: [
      condition('PodReadyToStartContainers', phase !== 'Succeeded' && phase !== 'Failed', now, previous),
      condition('PodScheduled', true, now, previous),
      condition('Initialized', initDone, now, previous, 'ContainersNotInitialized'),
      condition('ContainersReady', ready, now, previous, notReadyReason),
      condition('Ready', ready, now, previous, notReadyReason),
      ...previous.filter((c) => !ours.includes(c.type)),
    ],
    initContainerStatuses: run.init.map((c) => containerStatus(c, uid)),
    containerStatuses: run.main.map((c) => containerStatus(c, uid)),
  };
}
