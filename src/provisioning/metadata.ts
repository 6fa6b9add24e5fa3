import type { ObjectMeta } from '../kube/client.ts';
import { API_GROUP_VERSION } from '../api/index.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'startup-factory';
export const STARTUP_LABEL = 'startupfactory.dev/startup';
/** Selects every object the operator manages, for the label-selected informers. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

/** The identity of a Startup that its children need: name for labels, uid for the owner reference. */
export type StartupRef = { name: string; uid: string };

export function managedLabels(startup: StartupRef): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [STARTUP_LABEL]: startup.name };
}

/** Controller owner reference: garbage collection cascades the Startup's deletion to it. */
export function ownerReference(startup: StartupRef): NonNullable<ObjectMeta['ownerReferences']>[number] {
  return { apiVersion: API_GROUP_VERSION, kind: 'Startup', name: startup.name, uid: startup.uid, controller: true, blockOwnerDeletion: true };
}

export function childMetadata(startup: StartupRef, name: string, namespace?: string, labels: Record<string, string> = {}): ObjectMeta {
  return {
    name,
    ...(namespace === undefined ? {} : { namespace }),
    labels: { ...managedLabels(startup), ...labels },
    ownerReferences: [ownerReference(startup)],
  };
}
