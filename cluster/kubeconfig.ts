import { stringify } from 'yaml';

export type KubeconfigInput = {
  server: string;
  caPem: string;
  user: string;
  credentials: { certPem: string; keyPem: string } | { token: string };
};

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

/** A self-contained kubeconfig (data inlined), so copying the file elsewhere keeps it working. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const user = 'token' in input.credentials
    ? { token: input.credentials.token }
    : { 'client-certificate-data': b64(input.credentials.certPem), 'client-key-data': b64(input.credentials.keyPem) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'startup-factory-local', cluster: { server: input.server, 'certificate-authority-data': b64(input.caPem) } }],
    users: [{ name: input.user, user }],
    contexts: [{ name: 'startup-factory-local', context: { cluster: 'startup-factory-local', user: input.user } }],
    'current-context': 'startup-factory-local',
    preferences: {},
  });
}
