import type { KubeObject } from '../kube/client.ts';
import { startupNamespace } from '../api/index.ts';
import { childMetadata, type StartupRef } from './metadata.ts';

/** Every pod of a startup runs under the restricted Pod Security profile, task Jobs included. */
export function desiredNamespace(startup: StartupRef): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: childMetadata(startup, startupNamespace(startup.name), undefined, {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'latest',
    }),
  };
}
