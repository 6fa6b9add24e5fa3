import type { KubeObject } from '../kube/client.ts';
import { desiredNamespace } from './namespace.ts';
import { desiredNetworkPolicy } from './network-policy.ts';
import { desiredLimitRange, desiredResourceQuota, type StartupResources } from './quota.ts';
import { desiredTaskServiceAccount } from './service-account.ts';
import { desiredService, type ResolvedService } from './services.ts';
import type { StartupRef } from './metadata.ts';

export type ProvisioningInput = {
  startup: StartupRef;
  resources: StartupResources;
  expose: 'ClusterIP' | 'NodePort';
  /** With their allocated node ports when exposed. */
  services: readonly ResolvedService[];
  operatorNamespace: string;
  gatewayPort: number;
};

/**
 * Everything a provisioned startup consists of, in apply order (the Namespace first, as
 * everything else lives in it). The database Secret is not here: it is created once,
 * never applied.
 */
export function desiredObjects(input: ProvisioningInput): KubeObject[] {
  const { startup, resources, services } = input;
  const nodePorts = services.filter((s) => s.nodePort !== undefined).length;
  return [
    desiredNamespace(startup),
    desiredResourceQuota(startup, resources, nodePorts),
    desiredLimitRange(startup, resources),
    desiredNetworkPolicy(startup, services, { operatorNamespace: input.operatorNamespace, gatewayPort: input.gatewayPort, expose: input.expose }),
    desiredTaskServiceAccount(startup),
    ...services.map((s) => desiredService(startup, s)),
  ];
}
