import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBinaries } from './build.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { withLock } from './lock.ts';
import { binDir, clusterPaths, controlPlaneBinary, paths, repoRoot, stateDir, type ClusterPaths } from './paths.ts';
import { commandLine, isRunning, spawnDetached, stopProcess } from './processes.ts';

type Log = (message: string) => void;
export type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'pod-runner';
export type ClusterState = {
  ports: { etcdClient: number; etcdPeer: number; apiserver: number; controllerManager: number };
  pids: Partial<Record<Component, number>>;
};

const runnerMain = join(repoRoot, 'cluster', 'runner', 'main.ts');
/** The exact argument that identifies each component's process in /proc/<pid>/cmdline. */
const markers: Record<Component, string> = {
  etcd: 'etcd',
  'kube-apiserver': 'kube-apiserver',
  'kube-controller-manager': 'kube-controller-manager',
  'pod-runner': runnerMain,
};
/** One lock per checkout: each checkout has its own .cluster and so its own cluster. */
function clusterLockDir(dir: string): string {
  return join(tmpdir(), `startup-factory-cluster-${createHash('sha256').update(resolve(dir, '..')).digest('hex').slice(0, 16)}.lock`);
}
export const lockDir = clusterLockDir(stateDir);

export function readState(p: ClusterPaths = paths): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(p.state, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

export function componentRunning(state: ClusterState, component: Component): boolean {
  return isRunning(state.pids[component], markers[component]);
}

/**
 * Brings the local control plane up, or finds it up, and returns the admin kubeconfig path.
 * Each component is started only if it is not already running, so a second call returns at
 * once and a call after a crash restarts just what died (etcd data and certificates persist).
 * A control-plane component running with other arguments than this file gives it (started
 * by an older checkout, before a flag was added) is restarted with these.
 */
export async function clusterUp(log: Log = console.error): Promise<string> {
  await ensureBinaries(log);
  return withLock(lockDir, 'starting the local cluster', async () => {
    for (const dir of [stateDir, paths.logs, paths.pods]) mkdirSync(dir, { recursive: true });
    const state = readState() ?? await freshState();
    const save = () => saveState(paths, state);
    save();
    execFileSync(controlPlaneBinary(), ['pki', '--dir', paths.pki], { stdio: ['ignore', 'ignore', 'pipe'] });
    writeKubeconfigs(state);
    writeFileSync(paths.auditPolicy, AUDIT_POLICY);
    const start = (component: Component, command: string, args: string[]) => {
      log(`starting ${component}`);
      state.pids[component] = spawnDetached(command, args, paths.componentLog(component));
      save();
    };
    const ensure = async (component: Component, args: string[]) => {
      const pid = state.pids[component];
      if (pid && componentRunning(state, component)) {
        if (commandLine(pid)?.slice(1).join('\0') === args.join('\0')) return;
        log(`restarting ${component}: its arguments changed`);
        await stopProcess(pid, 15_000);
      }
      start(component, controlPlaneBinary(), args);
    };

    await ensure('etcd', ['etcd', '--data-dir', paths.etcdData,
      '--client-port', String(state.ports.etcdClient), '--peer-port', String(state.ports.etcdPeer)]);
    await waitFor('etcd', 60_000, async () => (await fetch(`http://127.0.0.1:${state.ports.etcdClient}/health`)).ok);

    await ensure('kube-apiserver', apiserverArgs(state));
    await waitFor('kube-apiserver', 120_000, async () => (await adminGet(state, '/readyz')).status === 200);

    await ensure('kube-controller-manager', controllerManagerArgs(state));
    if (!componentRunning(state, 'pod-runner')) {
      start('pod-runner', process.execPath, [runnerMain, '--kubeconfig', paths.componentKubeconfig('pod-runner'),
        '--state-dir', stateDir]);
    }
    // The serviceaccount controller creating `default` proves the controller manager works.
    await waitFor('kube-controller-manager', 120_000, async () =>
      (await adminGet(state, '/api/v1/namespaces/default/serviceaccounts/default')).status === 200);
    return paths.kubeconfig;
  }, log);
}

/**
 * Stops the local cluster's kube-apiserver, waits until it has exited, starts it again with
 * the very command line it ran with, and waits until it is ready: an API server restart
 * under everything that talks to it, for the disruptive suites. `dir` is the cluster's
 * state directory: this checkout's, or the one the suite's kubeconfig lives in.
 */
export async function restartApiserver(dir = stateDir, log: Log = console.error): Promise<void> {
  const p = clusterPaths(dir);
  await withLock(clusterLockDir(dir), 'changing the local cluster', async () => {
    const state = readState(p);
    const pid = state?.pids['kube-apiserver'];
    if (!state || !pid || !componentRunning(state, 'kube-apiserver')) throw new Error(`the local cluster in ${dir} has no kube-apiserver running`);
    const [command, ...args] = commandLine(pid) ?? [];
    log('stopping kube-apiserver');
    await stopProcess(pid, 15_000);
    log('starting kube-apiserver');
    state.pids['kube-apiserver'] = spawnDetached(command!, args, p.componentLog('kube-apiserver'));
    saveState(p, state);
    await waitFor('kube-apiserver', 120_000, async () => (await adminGet(state, '/readyz', p)).status === 200, p);
  }, log);
}

function saveState(p: ClusterPaths, state: ClusterState): void {
  writeFileSync(p.state, `${JSON.stringify(state, null, 2)}\n`);
}

async function freshState(): Promise<ClusterState> {
  const apiserver = await portIsFree(6443) ? 6443 : await freePort();
  return {
    ports: { etcdClient: await freePort(), etcdPeer: await freePort(), apiserver, controllerManager: await freePort() },
    pids: {},
  };
}

/**
 * What the API server's audit log records: the writes of pods' service accounts, at
 * Metadata level (who, which object, when; no bodies). Those are the writes of operators
 * installed by the chart, each request carrying the pod it came from
 * (user.extra authentication.kubernetes.io/pod-name), which is how the failover suites
 * prove that two replicas never write at once. The controller manager's own service
 * accounts and the reviews, which store nothing, are left out; so is everyone else
 * (the admin, the pod runner, operators run in-process by tests), so it stays small.
 */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    userGroups: ["system:serviceaccounts:kube-system"]
  - level: None
    resources: [{ group: authentication.k8s.io }, { group: authorization.k8s.io }]
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
`;

function pki(name: string, p: ClusterPaths = paths): string {
  return join(p.pki, name);
}

function apiserverArgs(state: ClusterState): string[] {
  return [
    'kube-apiserver',
    `--etcd-servers=http://127.0.0.1:${state.ports.etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${state.ports.apiserver}`,
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    // kubeadm's default: room for a million Services, as a real cluster has (a /24 ran out at ~83 Startups).
    '--service-cluster-ip-range=10.96.0.0/12',
    '--authorization-mode=RBAC',
    // Delegated authentication (controller manager) expects a request-header CA; no client
    // certificate here is named front-proxy-client, so no one can use these headers.
    `--requestheader-client-ca-file=${pki('ca.crt')}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    // Endpoints may not hold loopback addresses, and loopback is all this API server has.
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    '--profiling=false',
    `--audit-policy-file=${paths.auditPolicy}`,
    `--audit-log-path=${paths.auditLog}`,
    // Rotated at 100 MB, one old file kept: the suites read only what a run just wrote.
    '--audit-log-maxsize=100',
    '--audit-log-maxbackup=1',
  ];
}

function controllerManagerArgs(state: ClusterState): string[] {
  const kubeconfig = paths.componentKubeconfig('kube-controller-manager');
  return [
    'kube-controller-manager',
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${state.ports.controllerManager}`,
    // No cloud, no pod network: node CIDR allocation has nothing to allocate.
    '--controllers=*,-node-ipam-controller',
    `--root-ca-file=${pki('ca.crt')}`,
    `--service-account-private-key-file=${pki('sa.key')}`,
    '--use-service-account-credentials=true',
    `--cluster-signing-cert-file=${pki('ca.crt')}`,
    `--cluster-signing-key-file=${pki('ca.key')}`,
    '--cluster-name=startup-factory-local',
    // One instance: electing a leader would only delay the first reconcile by a lease period.
    '--leader-elect=false',
  ];
}

function writeKubeconfigs(state: ClusterState): void {
  const server = `https://127.0.0.1:${state.ports.apiserver}`;
  const caPem = readFileSync(pki('ca.crt'), 'utf8');
  const identity = (name: string) => ({ certPem: readFileSync(pki(`${name}.crt`), 'utf8'), keyPem: readFileSync(pki(`${name}.key`), 'utf8') });
  writeFileSync(paths.kubeconfig, renderKubeconfig({ server, caPem, user: 'admin', credentials: identity('admin') }), { mode: 0o600 });
  writeFileSync(paths.componentKubeconfig('kube-controller-manager'),
    renderKubeconfig({ server, caPem, user: 'kube-controller-manager', credentials: identity('controller-manager') }), { mode: 0o600 });
  writeFileSync(paths.componentKubeconfig('pod-runner'),
    renderKubeconfig({ server, caPem, user: 'pod-runner', credentials: identity('pod-runner') }), { mode: 0o600 });
}

/** GET with the admin client certificate; status 0 when the server is not answering. */
function adminGet(state: ClusterState, path: string, p: ClusterPaths = paths): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1', port: state.ports.apiserver, path, method: 'GET', timeout: 5_000,
      ca: readFileSync(pki('ca.crt', p)), cert: readFileSync(pki('admin.crt', p)), key: readFileSync(pki('admin.key', p)),
    }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

async function waitFor(component: Component, timeoutMs: number, check: () => Promise<boolean>, p: ClusterPaths = paths): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${component} not ready after ${timeoutMs / 1000} s; see ${p.componentLog(component)}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

if (import.meta.main) {
  const started = Date.now();
  clusterUp().then(
    (kubeconfig) => {
      console.error(`local cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      console.log(`export KUBECONFIG=${kubeconfig} PATH=${binDir()}:$PATH`);
    },
    (err: unknown) => {
      console.error(`cluster:up: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
