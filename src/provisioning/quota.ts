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
  // Each task attempt's gateway token is a Secret, alive as long as its Job.
  secrets: 150,
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

export type ContainerResources = { limits: { cpu: string; memory: string }; requests: { cpu: string; memory: string } };

/**
 * A quarter of the quota as the limit and an eighth as the request, so four such
 * containers fit: the LimitRange's default for containers that set nothing, and what
 * every pipeline task Job asks for (the per-startup task parallelism is four).
 */
export function quarterOfQuota(resources: StartupResources): ContainerResources {
  const limitCpu = Math.max(1, Math.floor(cpuMillis(resources.cpu) / 4));
  const limitMemory = Math.max(MiB, Math.floor(bytes(resources.memory) / 4 / MiB) * MiB);
  return {
    limits: { cpu: formatMillis(limitCpu), memory: formatBytes(limitMemory) },
    requests: { cpu: formatMillis(Math.max(1, Math.floor(limitCpu / 2))), memory: formatBytes(Math.max(MiB, Math.floor(limitMemory / 2 / MiB) * MiB)) },
  };
}

/**
 * Defaults for containers that set no resources (the quota makes the API server refuse
 * such pods otherwise); no single container or claim may exceed the quota.
 */
export function desiredLimitRange(startup: StartupRef, resources: StartupResources): KubeObject {
  const cpu = cpuMillis(resources.cpu);
  const memory = bytes(resources.memory);
  const defaults = quarterOfQuota(resources);
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: childMetadata(startup, LIMIT_RANGE_NAME, startupNamespace(startup.name)),
    spec: {
      limits: [
        {
          type: 'Container',
          default: defaults.limits,
          defaultRequest: defaults.requests,
          max: { cpu: formatMillis(cpu), memory: formatBytes(memory) },
        },
        { type: 'PersistentVolumeClaim', max: { storage: formatBytes(bytes(resources.storage)) } },
      ],
    },
  };
}
