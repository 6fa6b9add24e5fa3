import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Container, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { cliArguments, expandVars, UnsupportedCommandError } from './command.ts';
import { ContainerConfigError, resolveEnv, type EnvSources } from './env.ts';
import { podPhase, podReady, podStatus, type ContainerRun, type PodRun, type Terminated } from './status.ts';

export type PodDeps = {
  /** The pod's own address (network.ts). */
  ip: string;
  sources: EnvSources;
  /** A kubeconfig for the pod's service account, or undefined when the pod opts out of a token. */
  serviceAccountKubeconfig(pod: V1Pod): Promise<string | undefined>;
  /** The CLI entrypoint every container's command maps to. */
  cliPath: string;
  /** What the project image's Dockerfile sets with ENV, under the container's own env. */
  imageEnv: Record<string, string>;
  scratchDir: string;
  logFile: string;
  /** Called whenever the status changed and should be written. */
  changed(): void;
};

const TAIL_BYTES = 2048;
const TAIL_LINES = 80;
const CONFIG_RETRY_MS = 2_000;
const MAX_BACKOFF_MS = 60_000;

/** The local processes of one pod, and the status a kubelet would report for them. */
export class PodProcesses {
  pod: V1Pod;
  readonly run: PodRun;
  private readonly deps: PodDeps;
  private readonly children = new Set<ChildProcess>();
  private readonly log: WriteStream;
  private stopping = false;
  private finished: Promise<void> | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private readonly sleepers = new Set<() => void>();

  constructor(pod: V1Pod, deps: PodDeps) {
    this.pod = pod;
    this.deps = deps;
    const containerRun = (c: V1Container): ContainerRun =>
      ({ name: c.name, image: c.image ?? '', restartCount: 0, state: { kind: 'waiting', reason: 'PodInitializing' } });
    this.run = { startedAt: new Date(), ip: deps.ip, init: (pod.spec?.initContainers ?? []).map(containerRun), main: pod.spec?.containers.map(containerRun) ?? [] };
    mkdirSync(join(deps.scratchDir, 'home'), { recursive: true });
    mkdirSync(join(deps.scratchDir, 'tmp'), { recursive: true });
    this.log = createWriteStream(deps.logFile, { flags: 'a' });
  }

  status(now: Date): V1PodStatus {
    return podStatus(this.pod, this.run, now);
  }

  /** Ready as its status says it: what a Service's endpoints take. */
  get ready(): boolean {
    return !this.stopping && podReady(this.run, this.pod.spec?.restartPolicy ?? 'Always');
  }

  get terminal(): boolean {
    const phase = podPhase(this.run, this.pod.spec?.restartPolicy ?? 'Always');
    return phase === 'Succeeded' || phase === 'Failed';
  }

  /** Runs init containers one by one, then the containers side by side, until all are done or stopped. */
  start(): Promise<void> {
    const seconds = this.pod.spec?.activeDeadlineSeconds;
    if (seconds !== undefined) {
      this.deadline = setTimeout(() => {
        void this.stop(this.gracePeriod(), { reason: 'DeadlineExceeded', message: `Pod was active on the node longer than the specified deadline` });
      }, seconds * 1000);
    }
    this.finished = (async () => {
      const spec = this.pod.spec;
      const restartPolicy = spec?.restartPolicy ?? 'Always';
      for (const [i, container] of (spec?.initContainers ?? []).entries()) {
        // An init container is retried on failure unless the pod never restarts anything.
        const exitCode = await this.runContainer(container, this.run.init[i] as ContainerRun, restartPolicy === 'Never' ? 'Never' : 'OnFailure');
        if (exitCode !== 0) break;
      }
      if (this.run.init.every((c) => c.state.kind === 'terminated' && c.state.terminated.exitCode === 0) && !this.stopping) {
        await Promise.all((spec?.containers ?? []).map((c, i) => this.runContainer(c, this.run.main[i] as ContainerRun, restartPolicy)));
      }
      clearTimeout(this.deadline);
      this.changed();
      this.log.end();
    })();
    return this.finished;
  }

  /** SIGTERM to every process group, SIGKILL after the grace period; resolves when the pod is done. */
  async stop(graceSeconds: number, ended: { reason: string; message: string } | undefined): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      if (!this.terminal) this.run.ended = ended ?? { reason: '', message: '' };
      this.signalAll('SIGTERM');
      for (const wake of this.sleepers) wake();
      const kill = setTimeout(() => this.signalAll('SIGKILL'), graceSeconds * 1000);
      await this.finished;
      clearTimeout(kill);
    }
    await this.finished;
  }

  gracePeriod(): number {
    return this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  private changed(): void {
    this.deps.changed();
  }

  private signalAll(signal: NodeJS.Signals): void {
    for (const child of this.children) {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    }
  }

  /** One container through its restarts; returns its final exit code (-1 when it never ran). */
  private async runContainer(container: V1Container, run: ContainerRun, restartPolicy: string): Promise<number> {
    let backoffMs = 1_000;
    for (;;) {
      if (this.stopping) {
        if (run.state.kind !== 'terminated') this.markNeverRan(run);
        return run.state.kind === 'terminated' ? run.state.terminated.exitCode : -1;
      }
      let terminated: Terminated;
      try {
        terminated = await this.runOnce(container, run);
      } catch (err) {
        if (!(err instanceof ContainerConfigError)) throw err;
        run.state = { kind: 'waiting', reason: 'CreateContainerConfigError', message: err.message };
        this.changed();
        await this.pause(CONFIG_RETRY_MS);
        continue;
      }
      const restart = !this.stopping && (restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && terminated.exitCode !== 0));
      if (!restart) {
        run.state = { kind: 'terminated', terminated };
        this.changed();
        return terminated.exitCode;
      }
      // Kubelet-style crash-loop backoff, reset after a run long enough to count as healthy.
      if (terminated.finishedAt.getTime() - terminated.startedAt.getTime() > MAX_BACKOFF_MS) backoffMs = 1_000;
      run.lastTerminated = terminated;
      run.restartCount += 1;
      run.state = { kind: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${backoffMs / 1000}s restarting failed container=${run.name} pod=${this.pod.metadata?.name}` };
      this.changed();
      await this.pause(backoffMs);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    }
  }

  private markNeverRan(run: ContainerRun): void {
    const now = new Date();
    run.state = { kind: 'terminated', terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container was stopped before it started', startedAt: now, finishedAt: now } };
  }

  /** Sleeps, but wakes at once when the pod is being stopped. */
  private async pause(ms: number): Promise<void> {
    let wake = () => {};
    const woken = new Promise<void>((resolve) => { wake = resolve; });
    this.sleepers.add(wake);
    await Promise.race([sleep(ms), woken]);
    this.sleepers.delete(wake);
  }

  private async runOnce(container: V1Container, run: ContainerRun): Promise<Terminated> {
    const vars = await resolveEnv(this.pod, this.run.ip, container, this.deps.sources);
    const expand = (list: string[] | undefined) => list?.map((s) => expandVars(s, vars));
    const startedAt = new Date();
    let argv: string[];
    try {
      argv = cliArguments(expand(container.command), expand(container.args));
    } catch (err) {
      if (!(err instanceof UnsupportedCommandError)) throw err;
      return { exitCode: 128, reason: 'StartError', message: err.message, startedAt, finishedAt: startedAt };
    }
    const kubeconfig = await this.deps.serviceAccountKubeconfig(this.pod).catch((err: unknown) => {
      throw new ContainerConfigError(`service account token: ${(err as Error).message}`);
    });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: join(this.deps.scratchDir, 'home'),
      TMPDIR: join(this.deps.scratchDir, 'tmp'),
      HOSTNAME: this.pod.metadata?.name,
      ...this.deps.imageEnv,
      ...Object.fromEntries(vars),
    };
    if (kubeconfig) {
      const file = join(this.deps.scratchDir, 'kubeconfig');
      writeFileSync(file, kubeconfig, { mode: 0o600 });
      env.KUBECONFIG = file;
    }
    // workingDir is an absolute path inside the image; here it lives under the pod's scratch dir.
    const cwd = join(this.deps.scratchDir, 'root', container.workingDir ?? '/');
    mkdirSync(cwd, { recursive: true });

    const child = spawn(process.execPath, [this.deps.cliPath, ...argv], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    if (child.pid) appendFileSync(join(this.deps.scratchDir, 'pids'), `${child.pid}\n`);
    let tail = Buffer.alloc(0);
    const output = (chunk: Buffer) => {
      this.log.write(chunk);
      tail = Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES);
    };
    child.stdout?.on('data', output);
    child.stderr?.on('data', output);
    run.state = { kind: 'running', startedAt };
    this.changed();

    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.on('error', () => resolve([128, null]));
      child.on('close', (c, s) => resolve([c, s]));
    });
    this.children.delete(child);
    const signalNumber = signal ? constants.signals[signal] : undefined;
    const exitCode = code ?? 128 + (signalNumber ?? 9);
    const fallbackToLogs = container.terminationMessagePolicy === 'FallbackToLogsOnError' && exitCode !== 0;
    return {
      exitCode,
      signal: signalNumber,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      message: fallbackToLogs ? tail.toString('utf8').split('\n').slice(-TAIL_LINES).join('\n') : undefined,
      startedAt,
      finishedAt: new Date(),
    };
  }
}
