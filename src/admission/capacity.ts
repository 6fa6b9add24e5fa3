import { bytes, cpuMillis } from '../provisioning/quantity.ts';
import type { Resources } from './admission.ts';

export type NodeLike = { status?: { allocatable?: Record<string, string> } };

/**
 * The factory's capacity: the flags when given, else the sum of the Nodes' allocatable.
 * A cluster that reports no allocatable for a resource (a control plane without kubelets,
 * such as the local one) cannot be sized from the API, so that dimension is unbounded and
 * only `--max-active-startups` and the explicit flags limit admission.
 */
export function factoryCapacity(nodes: readonly NodeLike[], flags: { capacityCpu?: string | undefined; capacityMemory?: string | undefined }): Resources {
  const sum = (resource: string, parse: (q: string) => number): number => {
    const values = nodes.map((n) => n.status?.allocatable?.[resource]).filter((v): v is string => v !== undefined);
    return values.length === 0 ? Infinity : values.reduce((total, v) => total + parse(v), 0);
  };
  return {
    cpuMillis: flags.capacityCpu !== undefined ? cpuMillis(flags.capacityCpu) : sum('cpu', cpuMillis),
    memoryBytes: flags.capacityMemory !== undefined ? bytes(flags.capacityMemory) : sum('memory', bytes),
  };
}
