import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { clusterPaths, paths, toolPath as cachedToolPath, type ClusterPaths, type Tool } from '../../cluster/paths.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The kubeconfig the global setup chose: KUBECONFIG when set, else the local cluster's. */
    kubeconfig: string;
  }
}

export type ToolResult = { code: number; stdout: string; stderr: string };

/** The cluster the suite runs against (see test/setup/cluster.ts). */
export function kubeconfigPath(): string {
  try {
    return inject('kubeconfig');
  } catch {
    // Outside a vitest worker (a script reusing these helpers).
    return process.env.KUBECONFIG || paths.kubeconfig;
  }
}

/** True when the suite runs on the local control plane (and so on its pod runner). */
export function isLocalCluster(): boolean {
  return resolve(kubeconfigPath()) === paths.kubeconfig;
}

/**
 * The files of the local control plane the suite runs on (pod logs, pods' scratch
 * directories, the audit log), or undefined on any other cluster. Found from the
 * kubeconfig, which a local cluster keeps beside them: so also when it is another
 * checkout's (a git worktree's run with KUBECONFIG naming the main checkout's cluster).
 */
export function localClusterPaths(): ClusterPaths | undefined {
  const found = clusterPaths(dirname(resolve(kubeconfigPath())));
  return existsSync(found.state) && resolve(kubeconfigPath()) === found.kubeconfig ? found : undefined;
}

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return kc;
}

/** kubectl, helm and kubeconform come from the cached build, never from whatever is installed. */
export function toolPath(name: Tool): string {
  return cachedToolPath(name);
}

function run(tool: Tool, args: string[], opts: { input?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = execFile(toolPath(tool), args, {
      env: { ...process.env, KUBECONFIG: kubeconfigPath() }, maxBuffer: 64 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

export function kubectl(args: string[], opts?: { input?: string }): Promise<ToolResult> {
  return run('kubectl', args, opts);
}

export function helm(args: string[], opts?: { input?: string }): Promise<ToolResult> {
  return run('helm', args, opts);
}

/**
 * A DNS-1123 label unique to this call, so tests running in parallel never share an object;
 * short enough to leave room for prefixes such as `startup-` within 63 characters.
 */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 't';
  return `${clean}-${randomBytes(4).toString('hex')}`;
}

/** Polls until `check` returns a value other than undefined/false, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${cause}`);
}

/** Polls `kubectl get <resource> -o json` until `predicate` holds for the object; returns it. */
export async function waitForObject<T = any>(
  resource: string[], predicate: (obj: T) => boolean, what: string, timeoutMs = 60_000,
): Promise<T> {
  return waitFor(what, async () => {
    const r = await kubectl(['get', ...resource, '-o', 'json']);
    if (r.code !== 0) return undefined;
    const obj = JSON.parse(r.stdout) as T;
    return predicate(obj) ? obj : undefined;
  }, timeoutMs);
}

/** Resolves once `kubectl get` answers NotFound for the object. */
export async function waitForGone(resource: string[], what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(what, async () => {
    const r = await kubectl(['get', ...resource, '--ignore-not-found', '-o', 'name']);
    return r.code === 0 && r.stdout.trim() === '';
  }, timeoutMs);
}
