/**
 * The operator as its own process (`startup-factory operator`), as it runs in a pod, so
 * a test can kill it with SIGKILL: no shutdown hook runs, nothing is flushed, whatever
 * was in flight is cut. Its logs are kept in a file for the test to read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import { kubeconfigPath, waitFor } from './cluster.ts';

const CLI = new URL('../../bin/startup-factory.js', import.meta.url).pathname;

export class OperatorProcess {
  readonly logFile: string;
  readonly #flags: string[];
  readonly #gatewayPort: number;
  readonly #nodeArgs: string[];
  #child: ChildProcess | undefined;
  #log: WriteStream;
  kills = 0;

  /** `nodeArgs` go to Node itself, before the CLI (e.g. `--inspect=127.0.0.1:9229`). */
  constructor(o: { flags: string[]; gatewayPort: number; logFile: string; nodeArgs?: string[] }) {
    this.#flags = o.flags;
    this.#nodeArgs = o.nodeArgs ?? [];
    this.#gatewayPort = o.gatewayPort;
    this.logFile = o.logFile;
    // The logs folder is made by cluster:up; a run against another cluster (KUBECONFIG) has none.
    mkdirSync(dirname(o.logFile), { recursive: true });
    this.#log = createWriteStream(o.logFile, { flags: 'a' });
  }

  /** Starts it and resolves once its gateway accepts connections (it leads and runs). */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [...this.#nodeArgs, CLI, 'operator', ...this.#flags, '--gateway-port', String(this.#gatewayPort)], {
      env: { ...process.env, KUBECONFIG: kubeconfigPath(), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(this.#log, { end: false });
    child.stderr?.pipe(this.#log, { end: false });
    this.#child = child;
    await waitFor('the operator\'s gateway to listen', () => this.#listening(), 60_000, 100);
  }

  /** SIGKILL, and waits for the process to be gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.kills++;
  }

  /** SIGTERM: the orderly way out. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.#log.end();
  }

  logs(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  #listening(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.#gatewayPort, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
  }
}
