import type { KubeObject } from '../kube/client.ts';
import { startupNamespace } from '../api/index.ts';
import { childMetadata, type StartupRef } from './metadata.ts';
import type { ResolvedService } from './services.ts';

export const NETWORK_POLICY_NAME = 'startup-isolation';

/** Label the operator's own pods carry (the AI gateway runs in them). */
export const OPERATOR_POD_SELECTOR = { 'app.kubernetes.io/name': 'startup-factory' };

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const sameNamespace = { podSelector: {} };

export type NetworkPolicyConfig = { operatorNamespace: string; gatewayPort: number; expose: 'ClusterIP' | 'NodePort' };

/**
 * Default deny both ways: a startup's pods reach each other, cluster DNS and the
 * operator's AI gateway (which holds every provider key, so tasks need no other egress),
 * nothing else; nothing outside reaches them, except their node ports when the startup
 * asked to be exposed.
 */
export function desiredNetworkPolicy(startup: StartupRef, services: readonly ResolvedService[], config: NetworkPolicyConfig): KubeObject {
  const dns = [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }];
  const exposed = config.expose === 'NodePort'
    ? [{ ports: services.map((s) => ({ protocol: 'TCP', port: s.port })) }]
    : [];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMetadata(startup, NETWORK_POLICY_NAME, startupNamespace(startup.name)),
    spec: {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [sameNamespace] }, ...exposed],
      egress: [
        { to: [sameNamespace] },
        {
          to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: dns,
        },
        {
          to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: config.operatorNamespace } }, podSelector: { matchLabels: OPERATOR_POD_SELECTOR } }],
          ports: [{ protocol: 'TCP', port: config.gatewayPort }],
        },
      ],
    },
  };
}
