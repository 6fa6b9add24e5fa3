import type { KubeObject } from '../kube/client.ts';
import { startupNamespace } from '../api/index.ts';
import { childMetadata, type StartupRef } from './metadata.ts';

export const TASK_SERVICE_ACCOUNT = 'startup-tasks';

/** Task pods talk only to the AI gateway, with a task-scoped token of their own: they get no API credentials. */
export function desiredTaskServiceAccount(startup: StartupRef): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: childMetadata(startup, TASK_SERVICE_ACCOUNT, startupNamespace(startup.name)),
    automountServiceAccountToken: false,
  };
}
