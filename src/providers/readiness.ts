import type { AIProviderSpec } from '../api/index.ts';

/** Whether a provider can be routed to, and why not: the AIProvider's Ready condition. */
export type ProviderReadiness = { ready: boolean; reason: string; message: string };

/** What the operator learnt of the key's Secret: only whether the key is there, never its value. */
export type SecretLookup = { found: false } | { found: true; hasKey: boolean };

/** The Secret a provider's key lives in: always in the operator's namespace, or refused. */
export function keySecret(spec: AIProviderSpec, operatorNamespace: string): { namespace: string; name: string; key: string } | { refused: string } | undefined {
  if (spec.type === 'offline' || !spec.secretRef) return undefined;
  const namespace = spec.secretRef.namespace ?? operatorNamespace;
  // Reading keys from any namespace would let whoever may create an AIProvider use any Secret in the cluster.
  if (namespace !== operatorNamespace) {
    return { refused: `secretRef.namespace ${namespace}: provider keys are read only from the operator's namespace ${operatorNamespace}` };
  }
  return { namespace, name: spec.secretRef.name, key: spec.secretRef.key };
}

export function providerReadiness(spec: AIProviderSpec, operatorNamespace: string, lookup: SecretLookup | undefined): ProviderReadiness {
  if (spec.type === 'offline') {
    return { ready: true, reason: 'Offline', message: 'offline demo provider: deterministic answers derived from the spec, no model is called' };
  }
  const secret = keySecret(spec, operatorNamespace);
  if (!secret) return { ready: false, reason: 'NoSecretRef', message: `type ${spec.type} needs spec.secretRef` };
  if ('refused' in secret) return { ready: false, reason: 'SecretNamespaceNotAllowed', message: secret.refused };
  const where = `Secret ${secret.namespace}/${secret.name}`;
  if (!lookup?.found) return { ready: false, reason: 'SecretNotFound', message: `${where} does not exist` };
  if (!lookup.hasKey) return { ready: false, reason: 'KeyNotFound', message: `${where} has no non-empty key ${secret.key}` };
  return { ready: true, reason: 'KeyResolved', message: `API key found in ${where}, key ${secret.key}` };
}
