import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeTree } from '../../src/templates/write.ts';
import type { FileTree } from '../../src/templates/index.ts';

/** Node 24 (the one running the tests) first on PATH, so `npm` and the frameworks' CLIs use it. */
export const childEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
  NEXT_TELEMETRY_DISABLED: '1',
  NUXT_TELEMETRY_DISABLED: '1',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  ...extra,
});

/** Run a command to completion; fails with its output tail. Returns the wall time in seconds and the output's tail. */
export function run(cmd: string, args: string[], cwd: string, env = childEnv()): Promise<{ seconds: number; output: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-8000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve({ seconds: (performance.now() - started) / 1000, output });
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${output}`));
    });
  });
}

/** A port nobody listens on right now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type Server = { child: ChildProcess; output: () => string };

export function startServer(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Server {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-8000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

export async function stopServer(server: Server | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** GET until the server answers (any status), or fail with its output once it exits or time runs out. */
export async function waitForHttp(url: string, server: Server, timeoutMs = 60_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(5000) });
    } catch (err) {
      if (server.child.exitCode !== null) throw new Error(`server exited ${server.child.exitCode}:\n${server.output()}`);
      if (Date.now() > deadline) throw new Error(`${url} did not answer: ${(err as Error).message}\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Write a rendered tree to a fresh temporary directory. */
export async function materialize(tree: FileTree, prefix: string): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), `sf-${prefix}-`)), 'project');
  await writeTree(tree, dir);
  return dir;
}
