import type { KubeObject } from '../kube/client.ts';
import { startupNamespace } from '../api/index.ts';
import { childMetadata, type StartupRef } from './metadata.ts';

export type ServicePort = { name: string; port: number };
export type ResolvedService = ServicePort & { nodePort?: number };

/** What a template that names no services gets: the original plan's three-tier stack. */
export const DEFAULT_SERVICES: readonly ServicePort[] = [
  { name: 'frontend', port: 3000 },
  { name: 'api', port: 8000 },
  { name: 'db', port: 5432 },
];

/** The label a startup's workloads carry so its Service selects them; the scaffolds' manifests use it. */
export const SERVICE_SELECTOR_LABEL = 'app.kubernetes.io/name';

/** `spec.services`, else the template's, else the defaults. */
export function resolveServicePorts(fromSpec: readonly ServicePort[] | undefined, fromTemplate: readonly ServicePort[] | undefined): ServicePort[] {
  const chosen = fromSpec?.length ? fromSpec : fromTemplate?.length ? fromTemplate : DEFAULT_SERVICES;
  return chosen.map(({ name, port }) => ({ name, port }));
}

/** The services with the node ports allocated to them (all of them, or none for ClusterIP). */
export function withNodePorts(services: readonly ServicePort[], nodePorts: Readonly<Record<string, number>>): ResolvedService[] {
  return services.map((s) => (nodePorts[s.name] === undefined ? { ...s } : { ...s, nodePort: nodePorts[s.name]! }));
}

export function desiredService(startup: StartupRef, service: ResolvedService): KubeObject {
  const nodePort = service.nodePort !== undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(startup, service.name, startupNamespace(startup.name)),
    spec: {
      type: nodePort ? 'NodePort' : 'ClusterIP',
      selector: { [SERVICE_SELECTOR_LABEL]: service.name },
      ports: [{
        name: 'tcp',
        protocol: 'TCP',
        port: service.port,
        targetPort: service.port,
        ...(nodePort ? { nodePort: service.nodePort } : {}),
      }],
    },
  };
}
