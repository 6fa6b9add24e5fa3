import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * Where the operator finds its cluster, in this order: an explicit path (the --kubeconfig
 * flag), $KUBECONFIG, the in-cluster service account, ~/.kube/config. Fails with one line
 * naming what was tried rather than a stack from deep inside the client.
 */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) {
    if (!existsSync(path)) throw new Error(`kubeconfig ${path} does not exist`);
    kc.loadFromFile(path);
  } else if (!process.env.KUBECONFIG && process.env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
  } else if (process.env.KUBECONFIG || existsSync(join(homedir(), '.kube', 'config'))) {
    // $KUBECONFIG (several files merged), else ~/.kube/config.
    kc.loadFromDefault();
  }
  // With nothing to load, client-node would invent a cluster at http://localhost:8080 and
  // fail later with a TLS message that names neither the cause nor the fix.
  if (!kc.getCurrentCluster()) {
    throw new Error('no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or run in a cluster');
  }
  return kc;
}
