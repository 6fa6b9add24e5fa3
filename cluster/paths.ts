import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The pinned Kubernetes release: the newest whose go.mod the machine's Go builds without a toolchain switch. */
export const KUBERNETES_VERSION = 'v1.37.2';
export const HELM_MODULE = 'helm.sh/helm/v3';
export const HELM_VERSION = 'v3.22.0';
export const KUBECONFORM_MODULE = 'github.com/yannh/kubeconform';
export const KUBECONFORM_VERSION = 'v0.8.0';

export type Tool = 'kubectl' | 'helm' | 'kubeconform';

export const repoRoot = resolve(import.meta.dirname, '..');
export const controlPlaneSources = join(repoRoot, 'cluster', 'controlplane');

/** Outside the checkout, so every clone on the machine (CI's fresh one included) reuses one build. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'startup-factory');
}

export function buildDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `k8s-${KUBERNETES_VERSION}`);
}

export function binDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(buildDir(env), 'bin');
}

/** The multi-call binary: etcd, kube-apiserver, kube-controller-manager, kubectl, pki. */
export function controlPlaneBinary(env: NodeJS.ProcessEnv = process.env): string {
  return join(binDir(env), 'sfk8s');
}

export function toolPath(name: Tool, env: NodeJS.ProcessEnv = process.env): string {
  return join(binDir(env), name);
}

/** Everything a running local cluster owns, inside the checkout (gitignored). */
export const stateDir = join(repoRoot, '.cluster');

/** The files of the local cluster whose state lives in `dir`: this checkout's, or another's whose kubeconfig a test was given. */
export function clusterPaths(dir: string) {
  return {
    state: join(dir, 'state.json'),
    kubeconfig: join(dir, 'kubeconfig'),
    pki: join(dir, 'pki'),
    etcdData: join(dir, 'etcd'),
    logs: join(dir, 'logs'),
    pods: join(dir, 'pods'),
    auditPolicy: join(dir, 'audit-policy.yaml'),
    auditLog: join(dir, 'logs', 'audit.log'),
    componentKubeconfig: (component: string) => join(dir, `${component}.kubeconfig`),
    componentLog: (component: string) => join(dir, 'logs', `${component}.log`),
  };
}

export type ClusterPaths = ReturnType<typeof clusterPaths>;
export const paths = clusterPaths(stateDir);
