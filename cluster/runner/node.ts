import { availableParallelism, hostname, totalmem } from 'node:os';
import { statfsSync } from 'node:fs';
import {
  ApiException, CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type V1Node, type V1NodeStatus,
} from '@kubernetes/client-node';
import { NODE_IP } from './network.ts';
import { KUBERNETES_VERSION } from '../paths.ts';

const LEASE_SECONDS = 40;

/** When this runner started: the conditions have held since then, whatever the heartbeat. */
const since = new Date();

/** The machine, as a Node: its cores and memory are what pods may ask for. */
export function nodeStatus(stateDir: string, now: Date): V1NodeStatus {
  const fs = statfsSync(stateDir);
  const capacity = {
    cpu: String(availableParallelism()),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: '110',
    'ephemeral-storage': `${Math.floor((fs.blocks * fs.bsize) / 1024)}Ki`,
  };
  const healthy = (type: string, reason: string, message: string) =>
    ({ type, status: 'False', reason, message, lastHeartbeatTime: now, lastTransitionTime: since });
  return {
    capacity,
    allocatable: capacity,
    addresses: [{ type: 'InternalIP', address: NODE_IP }, { type: 'Hostname', address: hostname() }],
    conditions: [
      healthy('MemoryPressure', 'KubeletHasSufficientMemory', 'runner has sufficient memory available'),
      healthy('DiskPressure', 'KubeletHasNoDiskPressure', 'runner has no disk pressure'),
      healthy('PIDPressure', 'KubeletHasSufficientPID', 'runner has sufficient PID available'),
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'startup-factory pod runner is posting ready status', lastHeartbeatTime: now, lastTransitionTime: since },
    ],
    nodeInfo: {
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      operatingSystem: 'linux',
      osImage: 'local processes (startup-factory pod runner)',
      kernelVersion: '',
      kubeletVersion: KUBERNETES_VERSION,
      kubeProxyVersion: '',
      containerRuntimeVersion: `node://${process.version}`,
      machineID: '', systemUUID: '', bootID: '',
    },
    daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
  };
}

function notFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

/** Creates the Node if missing and (re)writes its status, as a kubelet does on start and on each heartbeat. */
export async function postNodeStatus(core: CoreV1Api, nodeName: string, stateDir: string): Promise<void> {
  const status = nodeStatus(stateDir, new Date());
  try {
    await core.readNode({ name: nodeName });
  } catch (err) {
    if (!notFound(err)) throw err;
    const node: V1Node = {
      metadata: {
        name: nodeName,
        labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': status.nodeInfo?.architecture ?? '', 'startupfactory.dev/pod-runner': 'true' },
      },
      spec: {},
    };
    await core.createNode({ body: node }).catch((e: unknown) => {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
    });
  }
  await core.patchNodeStatus({ name: nodeName, body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

/** MicroTime on the wire needs six fractional digits; client-node's Date serializer writes three. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The node Lease is the heartbeat node-lifecycle watches; a stale one taints the node and evicts its pods. */
export async function renewLease(coordination: CoordinationV1Api, nodeName: string, nodeUid: string | undefined): Promise<void> {
  const namespace = 'kube-node-lease';
  const renew = () => coordination.patchNamespacedLease({
    name: nodeName, namespace,
    body: { spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_SECONDS, renewTime: microTime(new Date()) } },
  }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  try {
    await renew();
  } catch (err) {
    if (!notFound(err)) throw err;
    await coordination.createNamespacedLease({
      namespace,
      body: {
        metadata: {
          name: nodeName, namespace,
          ownerReferences: nodeUid ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] : undefined,
        },
        spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_SECONDS },
      },
    }).catch((e: unknown) => {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
    });
    await renew();
  }
}
