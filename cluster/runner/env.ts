import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { expandVars } from './command.ts';
import { NODE_IP } from './network.ts';

/** Reads ConfigMap and Secret data (Secret values already decoded); undefined when the object is missing. */
export type EnvSources = {
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
};

/** Kubelet's CreateContainerConfigError: the container cannot start until its sources exist. */
export class ContainerConfigError extends Error {}

/**
 * The container's environment as the kubelet builds it: envFrom first, then env in order,
 * each value expanded against the variables defined before it.
 */
export async function resolveEnv(pod: V1Pod, podIP: string, container: V1Container, sources: EnvSources): Promise<Map<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const vars = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref?.name) continue;
    const kind = from.configMapRef ? 'configmap' : 'secret';
    const data = await read(`${kind} "${ref.name}"`, () => (from.configMapRef ? sources.configMap(namespace, ref.name!) : sources.secret(namespace, ref.name!)));
    if (!data) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
    }
    for (const [key, value] of Object.entries(data)) vars.set(`${from.prefix ?? ''}${key}`, value);
  }
  for (const entry of container.env ?? []) {
    const value = await envValue(pod, podIP, entry, sources, vars);
    if (value !== undefined) vars.set(entry.name, value);
  }
  return vars;
}

/**
 * A source that could not be read (the API server restarting, a timeout) holds the
 * container back like a missing one, to be tried again, as the kubelet does; failing the
 * pod's start instead left it never run, and its Job active until its deadline.
 */
async function read(what: string, fetch: () => Promise<Record<string, string> | undefined>): Promise<Record<string, string> | undefined> {
  try {
    return await fetch();
  } catch (err) {
    throw new ContainerConfigError(`could not read ${what}: ${(err as Error).message}`);
  }
}

async function envValue(
  pod: V1Pod, podIP: string, entry: NonNullable<V1Container['env']>[number], sources: EnvSources, vars: Map<string, string>,
): Promise<string | undefined> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const from = entry.valueFrom;
  if (!from) return expandVars(entry.value ?? '', vars);
  if (from.fieldRef) return fieldValue(pod, podIP, from.fieldRef.fieldPath);
  const keyRef = from.configMapKeyRef ?? from.secretKeyRef;
  if (keyRef) {
    const kind = from.configMapKeyRef ? 'ConfigMap' : 'Secret';
    const name = keyRef.name ?? '';
    const data = await read(`${kind.toLowerCase()} "${name}"`, () => (from.configMapKeyRef ? sources.configMap(namespace, name) : sources.secret(namespace, name)));
    const value = data?.[keyRef.key];
    if (value === undefined && !keyRef.optional) {
      throw new ContainerConfigError(data
        ? `couldn't find key ${keyRef.key} in ${kind} ${namespace}/${name}`
        : `${kind.toLowerCase()} "${name}" not found`);
    }
    return value;
  }
  throw new ContainerConfigError(`env ${entry.name}: resourceFieldRef is not supported by the local pod runner`);
}

/** The downward API fields a kubelet resolves for env (the addresses are loopback ones here). */
export function fieldValue(pod: V1Pod, podIP: string, fieldPath: string): string {
  const meta = pod.metadata ?? {};
  const mapKey = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (mapKey) return (mapKey[1] === 'labels' ? meta.labels : meta.annotations)?.[mapKey[2] as string] ?? '';
  switch (fieldPath) {
    case 'metadata.name': return meta.name ?? '';
    case 'metadata.namespace': return meta.namespace ?? '';
    case 'metadata.uid': return meta.uid ?? '';
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP': case 'status.podIPs': return podIP;
    case 'status.hostIP': case 'status.hostIPs': return NODE_IP;
    default: throw new ContainerConfigError(`unsupported fieldRef ${fieldPath}`);
  }
}
