import type { KubeObject } from '../kube/client.ts';
import { startupNamespace } from '../api/index.ts';
import { childMetadata, type StartupRef } from './metadata.ts';
import { bytes, cpuMillis, formatBytes, formatMillis } from './quantity.ts';

export const QUOTA_NAME = 'startup-quota';
export const LIMIT_RANGE_NAME = 'startup-defaults';

export type StartupResources = { cpu: string; memory: string; storage: string };

/**
 * Object counts sized for one startup: its own workloads plus the pipeline, whose
 * codegen fan-out and retries create a Job and an output ConfigMap per attempt, and
 * whose rendered scaffold spans several ConfigMaps.
 */
const COUNTS = {
  pods: 30,
  services: 16,
  configmaps: 150,
  secrets: 20,
  persistentvolumeclaims: 10,
  'count/jobs.batch': 150,
  'services.loadbalancers': 0,
} as const;

/**
 * The startup's share of the factory: requests and limits are both capped at
 * `spec.resources`, so what admission counted is what the namespace can use. Node
 * ports are capped at the Services the operator creates, so no workload in the
 * namespace can take a node port outside the operator's allocation.
 */
export function desiredResourceQuota(startup: StartupRef, resources: StartupResources, nodePortServices: number): KubeObject {
  const cpu = formatMillis(cpuMillis(resources.cpu));
  const memory = formatBytes(bytes(resources.memory));
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: childMetadata(startup, QUOTA_NAME, startupNamespace(startup.name)),
    spec: {
      hard: {
        'requests.cpu': cpu,
        'limits.cpu': cpu,
        'requests.memory': memory,
        'limits.memory': memory,
        'requests.storage': formatBytes(bytes(resources.storage)),
        ...Object.fromEntries(Object.entries(COUNTS).map(([k, v]) => [k, String(v)])),
        'services.nodeports': String(nodePortServices),
      },
    },
  };
}

const MiB = 2 ** 20;

/**
 * Defaults for containers that set no resources (the quota makes the API server refuse
 * such pods otherwise): a quarter of the quota as the limit and an eighth as the request,
 * so four default containers fit; no single container or claim may exceed the quota.
 */
export function desiredLimitRange(startup: StartupRef, resources: StartupResources): KubeObject {
  const cpu = cpuMillis(resources.cpu);
  const memory = bytes(resources.memory);
  const limitCpu = Math.max(1, Math.floor(cpu / 4));
  const limitMemory = Math.max(MiB, Math.floor(memory / 4 / MiB) * MiB);
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: childMetadata(startup, LIMIT_RANGE_NAME, startupNamespace(startup.name)),
    spec: {
      limits: [
        {
          type: 'Container',
          default: { cpu: formatMillis(limitCpu), memory: formatBytes(limitMemory) },
          defaultRequest: { cpu: formatMillis(Math.max(1, Math.floor(limitCpu / 2))), memory: formatBytes(Math.max(MiB, Math.floor(limitMemory / 2 / MiB) * MiB)) },
          max: { cpu: formatMillis(cpu), memory: formatBytes(memory) },
        },
        { type: 'PersistentVolumeClaim', max: { storage: formatBytes(bytes(resources.storage)) } },
      ],
    },
  };
}
