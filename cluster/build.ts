import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildDir, cacheRoot, controlPlaneSources, HELM_MODULE, HELM_VERSION, KUBECONFORM_MODULE, KUBECONFORM_VERSION,
  KUBERNETES_VERSION,
} from './paths.ts';
import { withLock } from './lock.ts';

type Log = (message: string) => void;

/** What the cached binaries were built from: any change to the Go sources, pins or flags rebuilds. */
function buildStamp(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(controlPlaneSources).filter((f) => /\.(go|mod|sum)$/.test(f)).sort()) {
    hash.update(file).update('\0').update(readFileSync(join(controlPlaneSources, file))).update('\0');
  }
  hash.update([versionLdflags(), helmLdflags(), kubeconformLdflags()].join('\0'));
  hash.update(`${KUBERNETES_VERSION} ${HELM_MODULE}@${HELM_VERSION} ${KUBECONFORM_MODULE}@${KUBECONFORM_VERSION}`);
  return hash.digest('hex');
}

function stampFile(dir: string): string {
  return join(dir, 'stamp');
}

function isBuilt(): boolean {
  try {
    return readFileSync(stampFile(buildDir()), 'utf8').trim() === buildStamp();
  } catch {
    return false;
  }
}

/**
 * Builds sfk8s (etcd + kube-apiserver + kube-controller-manager + kubectl), helm and
 * kubeconform into the cache once. The build goes to a private directory that is renamed
 * into place only when complete, so a concurrent build or an interrupted one never leaves
 * a half-written cache behind.
 */
export async function ensureBinaries(log: Log): Promise<void> {
  if (isBuilt()) return;
  mkdirSync(cacheRoot(), { recursive: true });
  await withLock(join(cacheRoot(), `build-${KUBERNETES_VERSION}.lock`), 'building Kubernetes', async () => {
    if (isBuilt()) return;
    const target = buildDir();
    const temp = `${target}.tmp-${process.pid}`;
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(join(temp, 'bin'), { recursive: true });
    const started = Date.now();
    log(`building Kubernetes ${KUBERNETES_VERSION} (etcd, kube-apiserver, kube-controller-manager, kubectl) into ${target}; a cold build takes 10-20 minutes on 2 cores`);
    await go(['build', '-trimpath', '-ldflags', versionLdflags(), '-o', join(temp, 'bin', 'sfk8s'), '.'], controlPlaneSources, {}, log);
    symlinkSync('sfk8s', join(temp, 'bin', 'kubectl'));
    log(`building helm ${HELM_VERSION}`);
    await go(['install', '-trimpath', '-ldflags', helmLdflags(), `${HELM_MODULE}/cmd/helm@${HELM_VERSION}`], cacheRoot(), { GOBIN: join(temp, 'bin') }, log);
    log(`building kubeconform ${KUBECONFORM_VERSION}`);
    await go(['install', '-trimpath', '-ldflags', kubeconformLdflags(), `${KUBECONFORM_MODULE}/cmd/kubeconform@${KUBECONFORM_VERSION}`], cacheRoot(), { GOBIN: join(temp, 'bin') }, log);
    writeFileSync(stampFile(temp), `${buildStamp()}\n`);
    if (existsSync(target)) {
      // Running clusters keep their open binaries (the inode survives), so replacing is safe.
      const old = `${target}.old-${process.pid}`;
      renameSync(target, old);
      renameSync(temp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(temp, target);
    }
    log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  }, log);
}

/** Without these, the binaries would report v0.0.0-master and clients would see a bogus server version. */
function versionLdflags(): string {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
  const pkg = 'k8s.io/component-base/version';
  return [
    '-s', '-w',
    `-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(' ');
}

/**
 * Without a Kubernetes version linked in (helm's Makefile links its client-go's), an
 * offline `helm template`/`helm lint` assumes 1.20 and refuses charts that need newer; we
 * link the pinned version, the cluster this helm is used with.
 */
function helmLdflags(): string {
  const [major, minor] = ['1', KUBERNETES_VERSION.split('.')[1]];
  const kubeVersion = ['pkg/chartutil', 'pkg/lint/rules']
    .map((pkg) => `-X ${HELM_MODULE}/${pkg}.k8sVersionMajor=${major} -X ${HELM_MODULE}/${pkg}.k8sVersionMinor=${minor}`);
  return [`-s -w -X ${HELM_MODULE}/internal/version.version=${HELM_VERSION}`, ...kubeVersion].join(' ');
}

function kubeconformLdflags(): string {
  return `-s -w -X main.version=${KUBECONFORM_VERSION}`;
}

/** Runs the machine's Go; the error carries the tail of its output. */
export function go(args: string[], cwd: string, env: Record<string, string>, log: Log): Promise<void> {
  return new Promise((resolve, reject) => {
    // GOTOOLCHAIN=local: the pin is chosen to build with the machine's Go, never a download.
    const child = spawn('go', args, { cwd, env: { ...process.env, GOTOOLCHAIN: 'local', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-8000); };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const ticker = setInterval(() => log(`still building (go ${args[0]})...`), 60_000);
    child.on('error', (err) => {
      clearInterval(ticker);
      reject(new Error(`cannot run go (is Go >= 1.26 installed?): ${err.message}`));
    });
    child.on('close', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`go ${args.join(' ')} failed (exit ${code}):\n${output}`));
    });
  });
}
