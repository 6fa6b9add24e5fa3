import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException, CoordinationV1Api, CoreV1Api, makeInformer, PatchStrategy, setHeaderOptions,
  type Informer, type KubeConfig, type KubernetesObject, type V1Pod, type V1Service,
} from '@kubernetes/client-node';
import { renderKubeconfig } from '../kubeconfig.ts';
import { isProjectImage, PROJECT_IMAGE } from './image.ts';
import { podAddress } from './network.ts';
import { postNodeStatus, renewLease } from './node.ts';
import { PodProcesses } from './pod.ts';
import { NodePortProxy } from './proxy.ts';
import type { EnvSources } from './env.ts';

export type RunnerOptions = { nodeName: string; stateDir: string; cliPath: string; log: (message: string) => void };

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const FLUSH_INTERVAL_MS = 1_000;
const RESYNC_INTERVAL_MS = 15_000;
const LEASE_RENEW_MS = 10_000;
const NODE_STATUS_MS = 30_000;
const TOKEN_SECONDS = 7 * 24 * 3600;

function apiCode(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

function images(pod: V1Pod): string[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.image ?? '');
}

/** `writes` chains status writes so they land in order and a final one can be awaited. */
type Supervised = { processes: PodProcesses; dirty: boolean; writes: Promise<unknown> };

/**
 * The only stand-in for a kubelet, a scheduler and kube-proxy: binds pods of the project's
 * image to one Node and runs them as local processes, each on a loopback address of its own
 * (network.ts), reports every other pod as unschedulable, and serves Services' node ports
 * (proxy.ts). All state that matters lives in the API, so the runner survives API server
 * restarts by simply re-listing, and each pod is handled level-based from its latest object.
 */
export class PodRunner {
  private readonly kc: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly opts: RunnerOptions;
  private readonly pods = new Map<string, Supervised>();
  private readonly busy = new Set<string>();
  /** The latest object seen for a pod while it was being handled: handled next, not dropped. */
  private readonly pending = new Map<string, V1Pod>();
  private readonly reportedUnrunnable = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly informer;
  private readonly services;
  private readonly proxy: NodePortProxy;
  private stopped = false;
  private nodeUid: string | undefined;

  constructor(kc: KubeConfig, opts: RunnerOptions) {
    this.kc = kc;
    this.opts = opts;
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => this.core.listPodForAllNamespaces());
    this.services = makeInformer<V1Service>(kc, '/api/v1/services', () => this.core.listServiceForAllNamespaces());
    this.proxy = new NodePortProxy(
      () => [...this.pods.values()].map((s) => ({ pod: s.processes.pod, ip: s.processes.run.ip, ready: s.processes.ready })),
      opts.log,
    );
  }

  async start(): Promise<void> {
    await this.retry('register node', async () => {
      await postNodeStatus(this.core, this.opts.nodeName, this.opts.stateDir);
      this.nodeUid = (await this.core.readNode({ name: this.opts.nodeName })).metadata?.uid;
    });
    await this.retry('renew node lease', () => this.heartbeat());
    this.every(LEASE_RENEW_MS, () => this.heartbeat());
    this.every(NODE_STATUS_MS, () => postNodeStatus(this.core, this.opts.nodeName, this.opts.stateDir));
    this.every(FLUSH_INTERVAL_MS, async () => { for (const [uid, s] of this.pods) if (s.dirty) await this.flush(uid, s); });
    this.every(RESYNC_INTERVAL_MS, () => this.resync());

    this.informer.on('add', (pod) => this.handle(pod));
    this.informer.on('update', (pod) => this.handle(pod));
    this.informer.on('delete', (pod) => this.forget(pod));
    const syncProxy = () => void this.proxy.sync(this.services.list());
    for (const event of ['add', 'update', 'delete'] as const) this.services.on(event, syncProxy);
    this.keepWatching('pod', this.informer);
    this.keepWatching('service', this.services);
    this.opts.log(`pod runner ready as node ${this.opts.nodeName}`);
  }

  /**
   * client-node's informer stops for good on any error other than 410: this restarts it,
   * with a backoff that resets once a watch has stayed up for a while.
   */
  private keepWatching<T extends KubernetesObject>(what: string, informer: Informer<T>): void {
    let backoffMs = 500;
    let startedAt = Date.now();
    informer.on('error', (err: unknown) => {
      if (this.stopped) return;
      if (Date.now() - startedAt > 30_000) backoffMs = 500;
      this.opts.log(`${what} watch failed (${(err as Error)?.message ?? err}); restarting in ${backoffMs} ms`);
      setTimeout(() => {
        if (this.stopped) return;
        startedAt = Date.now();
        void informer.start().catch(() => undefined);
      }, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 10_000);
    });
    // A failed first list is retried by the error handler above.
    void informer.start().catch(() => undefined);
  }

  /** Ends every pod's processes (their pods will be found lost and replaced by their controllers). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([this.informer.stop(), this.services.stop(), this.proxy.close()]);
    await Promise.all([...this.pods.values()].map((s) => s.processes.stop(5, { reason: 'NodeShutdown', message: 'the local pod runner stopped' })));
  }

  private every(ms: number, fn: () => Promise<void>): void {
    let running = false;
    this.timers.push(setInterval(() => {
      if (running) return;
      running = true;
      fn().catch((err: unknown) => this.opts.log(`background task: ${(err as Error).message}`)).finally(() => { running = false; });
    }, ms));
  }

  private async retry(what: string, fn: () => Promise<unknown>): Promise<void> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        await fn();
        return;
      } catch (err) {
        this.opts.log(`${what}: ${(err as Error).message}; retrying`);
        await sleep(delay);
      }
    }
  }

  /**
   * A fresh list, not the informer's cache: it catches whatever a silent or broken watch
   * missed, pods deleted meanwhile included.
   */
  private async resync(): Promise<void> {
    const pods = (await this.core.listPodForAllNamespaces()).items;
    const live = new Set(pods.map((p) => p.metadata?.uid));
    for (const [uid, s] of this.pods) if (!live.has(uid)) this.forget(s.processes.pod);
    this.removeOrphanScratchDirs(live);
    for (const pod of pods) this.handle(pod);
    // Retries a node port that was taken at the last try.
    await this.proxy.sync(this.services.list());
  }

  private heartbeat(): Promise<void> {
    return renewLease(this.coordination, this.opts.nodeName, this.nodeUid);
  }

  /** One pod at a time per uid, level-based: an update arriving meanwhile is handled right after. */
  private handle(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || this.stopped) return;
    if (this.busy.has(uid)) {
      this.pending.set(uid, pod);
      return;
    }
    this.busy.add(uid);
    this.reconcile(pod)
      .catch((err: unknown) => this.opts.log(`${podKey(pod)}: ${(err as Error).message}`))
      .finally(() => {
        this.busy.delete(uid);
        const next = this.pending.get(uid);
        this.pending.delete(uid);
        if (next) this.handle(next);
      });
  }

  private async reconcile(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid as string;
    const phase = pod.status?.phase;
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) {
      if (terminal || pod.metadata?.deletionTimestamp) return;
      if (images(pod).every(isProjectImage)) await this.bind(pod);
      else await this.reportUnrunnable(pod);
      return;
    }
    if (nodeName !== this.opts.nodeName) return;

    const supervised = this.pods.get(uid);
    if (supervised) supervised.processes.pod = pod;
    if (pod.metadata?.deletionTimestamp) {
      await this.terminate(pod, supervised);
      return;
    }
    if (supervised || terminal) return;
    if (phase === 'Running') {
      // Running on this node but not by this runner: the process was lost with a previous runner.
      await this.markLost(pod);
      return;
    }
    this.launch(pod);
  }

  private async bind(pod: V1Pod): Promise<void> {
    await this.core.createNamespacedPodBinding({
      name: pod.metadata?.name as string,
      namespace: pod.metadata?.namespace as string,
      body: {
        apiVersion: 'v1', kind: 'Binding',
        metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: this.opts.nodeName },
      },
    }).catch((err: unknown) => {
      // 409: bound already (by us, a moment ago).
      if (apiCode(err) !== 409) throw err;
    });
  }

  /** Said once per pod: a deterministic Event name makes a restarted runner find its own Event. */
  private async reportUnrunnable(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid as string;
    if (this.reportedUnrunnable.has(uid)) return;
    const others = [...new Set(images(pod).filter((i) => !isProjectImage(i)))].join(', ');
    const message = `0/1 nodes are available: the local pod runner runs only the ${PROJECT_IMAGE} image, not ${others}`;
    const namespace = pod.metadata?.namespace as string;
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${pod.metadata?.name}.${uid.slice(0, 8)}.unrunnable`, namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, namespace, uid, resourceVersion: pod.metadata?.resourceVersion },
        reason: 'FailedScheduling', message, type: 'Warning', count: 1, firstTimestamp: now, lastTimestamp: now,
        source: { component: 'startup-factory-pod-runner' }, reportingComponent: 'startup-factory-pod-runner', reportingInstance: this.opts.nodeName,
      },
    }).catch((err: unknown) => {
      if (apiCode(err) !== 409) throw err;
    });
    await this.core.patchNamespacedPodStatus({
      name: pod.metadata?.name as string, namespace,
      body: { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: now }] } },
    }, mergePatch());
    this.reportedUnrunnable.add(uid);
  }

  private launch(pod: V1Pod): void {
    const uid = pod.metadata?.uid as string;
    const base = `${pod.metadata?.namespace}_${pod.metadata?.name}`;
    let supervised: Supervised | undefined;
    const ip = podAddress(uid, new Set([...this.pods.values()].map((s) => s.processes.run.ip)));
    const processes = new PodProcesses(pod, {
      ip,
      sources: this.envSources(),
      serviceAccountKubeconfig: (p) => this.serviceAccountKubeconfig(p),
      cliPath: this.opts.cliPath,
      imageEnv: {
        // The image bakes a compile cache in (Dockerfile); here one shared directory plays it.
        NODE_COMPILE_CACHE: join(this.opts.stateDir, 'node-compile-cache'),
        // In its own network namespace the CLI would listen on all of the pod's addresses;
        // here all of the host's are everyone's, so it listens on the pod's own.
        SF_BIND_ADDRESS: ip,
      },
      scratchDir: this.scratchDir(pod),
      logFile: join(this.opts.stateDir, 'logs', `${base}.log`),
      changed: () => {
        if (!supervised) return;
        supervised.dirty = true;
        void this.flush(uid, supervised);
      },
    });
    supervised = { processes, dirty: true, writes: Promise.resolve() };
    this.pods.set(uid, supervised);
    this.opts.log(`${podKey(pod)}: starting`);
    processes.start().then(
      () => this.opts.log(`${podKey(pod)}: ${processes.status(new Date()).phase}`),
      (err: unknown) => this.opts.log(`${podKey(pod)}: runner error ${(err as Error).message}`),
    );
  }

  /** Writes the pod's status if it changed; true once it is written (a failure stays dirty for the next tick). */
  private flush(uid: string, s: Supervised): Promise<boolean> {
    const write = s.writes.then(async () => {
      if (!s.dirty) return true;
      s.dirty = false;
      const pod = s.processes.pod;
      try {
        await this.core.patchNamespacedPodStatus({
          name: pod.metadata?.name as string, namespace: pod.metadata?.namespace as string,
          body: { metadata: { uid }, status: s.processes.status(new Date()) },
        }, mergePatch());
        return true;
      } catch (err) {
        if (apiCode(err) === 404) return true;
        s.dirty = true;
        return false;
      }
    });
    s.writes = write;
    return write;
  }

  /** Deletion: stop the processes within the grace period, report the final status, then let the pod go. */
  private async terminate(pod: V1Pod, s: Supervised | undefined): Promise<void> {
    if (s) {
      await s.processes.stop(s.processes.gracePeriod(), undefined);
      // The terminal status must land before the pod goes: the Job controller counts it.
      while (!(await this.flush(pod.metadata?.uid as string, s))) await sleep(500);
    }
    await this.core.deleteNamespacedPod({
      name: pod.metadata?.name as string, namespace: pod.metadata?.namespace as string,
      gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } },
    }).catch((err: unknown) => {
      if (apiCode(err) !== 404 && apiCode(err) !== 409) throw err;
    });
  }

  private async markLost(pod: V1Pod): Promise<void> {
    const now = new Date();
    const lost = (name: string) => ({
      name, ready: false, started: false, restartCount: 0, image: '', imageID: '',
      state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', startedAt: now, finishedAt: now } },
    });
    // Controllers replace a Failed pod; kubelet reports a vanished container the same way.
    await this.core.patchNamespacedPodStatus({
      name: pod.metadata?.name as string, namespace: pod.metadata?.namespace as string,
      body: { status: { phase: 'Failed', reason: 'ContainerStatusUnknown', message: 'the local pod runner restarted and lost this pod\'s processes', containerStatuses: (pod.spec?.containers ?? []).map((c) => ({ ...lost(c.name), image: c.image ?? '' })) } },
    }, mergePatch());
  }

  private forget(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    this.reportedUnrunnable.delete(uid);
    const s = this.pods.get(uid);
    this.pods.delete(uid);
    // Force-deleted behind our back: no grace left to give.
    const stopped = s ? s.processes.stop(0, undefined) : Promise.resolve();
    void stopped.finally(() => rmSync(this.scratchDir(pod), { recursive: true, force: true }));
  }

  private scratchDir(pod: V1Pod): string {
    return join(this.opts.stateDir, 'pods', `${pod.metadata?.namespace}_${pod.metadata?.name}_${pod.metadata?.uid}`);
  }

  /** Scratch dirs of pods deleted while no runner was watching (each dir name ends in the pod's uid). */
  private removeOrphanScratchDirs(live: Set<string | undefined>): void {
    const root = join(this.opts.stateDir, 'pods');
    for (const dir of existsSync(root) ? readdirSync(root) : []) {
      const uid = dir.slice(dir.lastIndexOf('_') + 1);
      if (!live.has(uid) && !this.pods.has(uid)) rmSync(join(root, dir), { recursive: true, force: true });
    }
  }


  private envSources(): EnvSources {
    const missing = (err: unknown) => {
      if (apiCode(err) === 404) return undefined;
      throw err;
    };
    return {
      configMap: (namespace, name) => this.core.readNamespacedConfigMap({ name, namespace })
        .then((cm) => ({ ...(cm.data ?? {}), ...Object.fromEntries(Object.entries(cm.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])) }), missing),
      secret: (namespace, name) => this.core.readNamespacedSecret({ name, namespace })
        .then((s) => Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])), missing),
    };
  }

  /**
   * In-cluster clients cannot each get their own /var/run/secrets, so a pod's processes get a
   * kubeconfig holding a token bound to the pod (it dies with the pod, like a projected token).
   */
  private async serviceAccountKubeconfig(pod: V1Pod): Promise<string | undefined> {
    const namespace = pod.metadata?.namespace as string;
    const account = pod.spec?.serviceAccountName ?? 'default';
    let automount = pod.spec?.automountServiceAccountToken;
    if (automount === undefined) {
      automount = (await this.core.readNamespacedServiceAccount({ name: account, namespace })).automountServiceAccountToken;
    }
    if (automount === false) return undefined;
    const request = await this.core.createNamespacedServiceAccountToken({
      name: account, namespace,
      body: { spec: { audiences: [], expirationSeconds: TOKEN_SECONDS, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name, uid: pod.metadata?.uid } } },
    });
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('runner kubeconfig has no cluster');
    const caPem = cluster.caData ? Buffer.from(cluster.caData, 'base64').toString() : '';
    return renderKubeconfig({ server: cluster.server, caPem, user: `system:serviceaccount:${namespace}:${account}`, credentials: { token: request.status?.token ?? '' } });
  }
}
