/**
 * `npm start` as the README tells it: with KUBECONFIG set it runs the operator against
 * that cluster (here the suite's), prints the dashboard's address, and Ctrl-C stops it
 * cleanly. Ctrl-C is SIGINT to the terminal's whole foreground process group (npm, the
 * shell it runs the script in, and node), so each process here starts in a group of its
 * own and the test signals the group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Startup } from '../../../src/api/index.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { repoRoot } from '../../../cluster/paths.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from '../../support/cluster.ts';
import { apply, freePort, isProvisioned, RUN_LABEL } from '../../support/factory.ts';

const SHUTDOWN_SECONDS = 10;
const started: ChildProcess[] = [];
const cleanup: string[][] = [];

afterAll(async () => {
  // Only if a test failed before stopping its operator: never leave one running.
  for (const child of started) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  for (const args of cleanup) await kubectl(['delete', ...args, '--ignore-not-found', '--wait=false']);
});

type LogLine = { level: number; msg: string; [key: string]: unknown };

/** `npm start` or what it runs, with flags of its own (namespace, selector, free ports), in a process group of its own. */
async function launch(command: string[]) {
  const namespace = uniqueName('sf-start');
  const run = uniqueName('run');
  cleanup.push(['namespace', namespace]);
  const [gatewayPort, dashboardPort] = [await freePort(), await freePort()];
  const flags = [
    '--namespace', namespace, '--startup-selector', `${RUN_LABEL}=${run}`,
    '--metrics-port', '0', '--gateway-port', String(gatewayPort), '--dashboard-port', String(dashboardPort),
    '--shutdown-seconds', String(SHUTDOWN_SECONDS),
  ];
  const [bin, ...args] = command;
  const proc = spawn(bin!, [...args, ...flags], {
    cwd: repoRoot, env: { ...process.env, KUBECONFIG: kubeconfigPath(), LOG_LEVEL: 'info' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(proc);
  const out = { stdout: '', stderr: '' };
  proc.stdout!.on('data', (c: Buffer) => { out.stdout += c.toString(); });
  proc.stderr!.on('data', (c: Buffer) => { out.stderr += c.toString(); });
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  const logs = (): LogLine[] => out.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  const diagnose = () => `\nstdout:\n${out.stdout.slice(-4000)}\nstderr:\n${out.stderr.slice(-4000)}`;
  // Waits for a condition, or fails at once (with the output) if the process exits meanwhile.
  const until = <T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000) => Promise.race([
    waitFor(what, check, timeoutMs),
    exited.then(() => { throw new Error(`it exited while waiting for ${what}${diagnose()}`); }),
  ]);

  /** Resolves once the operator answers /readyz and leads; returns the dashboard address it printed. */
  const ready = async (): Promise<string> => {
    const dashboard = await until('the dashboard line', async () => /the dashboard: (http:\/\/\S+\/)/.exec(out.stderr)?.[1], 120_000);
    expect(dashboard).toBe(`http://127.0.0.1:${dashboardPort}/`);
    // JSON logs on stdout; the first says where /metrics and /readyz listen (port 0: a free one).
    const starting = await until('the operator to start', async () => logs().find((l) => l.msg === 'operator starting'));
    const metrics = `http://${String(starting.address).replace(/^0\.0\.0\.0:/, '127.0.0.1:')}`;
    await until(`/readyz at ${metrics}`, async () => (await fetch(`${metrics}/readyz`)).status === 200);
    await until('it to lead', async () => logs().some((l) => l.msg === 'leading: controllers running'));
    return dashboard;
  };

  /** Every process of the group (npm, its shell, node) has exited. */
  const groupGone = () => { try { process.kill(-proc.pid!, 0); return false; } catch { return true; } };

  /**
   * Ctrl-C: SIGINT to the group. Resolves with how the process ended, once the whole group
   * is gone and the operator has logged its stop, or fails when that takes longer than the
   * shutdown deadline.
   */
  const interrupt = async () => {
    const sentAt = Date.now();
    process.kill(-proc.pid!, 'SIGINT');
    const { code, signal } = await exited;
    await waitFor('every process of the group to exit, the operator having logged its stop', async () => groupGone()
      && out.stdout.includes('"msg":"operator stopped"'), Math.max(0, SHUTDOWN_SECONDS * 1000 - (Date.now() - sentAt)), 50);
    return { code, signal, ms: Date.now() - sentAt };
  };

  /** The operator stopped the orderly way, with nothing logged as an error from start to end. */
  const expectCleanStop = () => {
    const lines = logs();
    expect(lines.find((l) => l.msg === 'shutting down'), diagnose()).toMatchObject({ signal: 'SIGINT' });
    expect(lines.at(-1)).toMatchObject({ msg: 'operator stopped', exitCode: 0 });
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
    expect(out.stderr).not.toMatch(/startup-factory: |Error/);
  };

  return { namespace, run, out, ready, interrupt, expectCleanStop, until, diagnose };
}

describe('npm start against KUBECONFIG', () => {
  it('runs the operator (node cluster/start.ts), prints the dashboard it serves, provisions, and exits 0 on Ctrl-C within the shutdown deadline', async () => {
    // What `npm start` runs: this test checks it directly, so the exit code is the operator's own.
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('node cluster/start.ts');
    const op = await launch([process.execPath, 'cluster/start.ts']);
    const dashboard = await op.ready();
    expect(op.out.stderr).toContain(`export KUBECONFIG=${kubeconfigPath()}`);
    // On loopback the dashboard asks for no token.
    const page = await fetch(dashboard);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');

    // It runs against this cluster: a Startup of its selector, of the built-in template start.ts installed, gets provisioned.
    const startup = uniqueName('npm-start');
    cleanup.unshift(['startup', startup]);
    await apply([stringify({
      apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name: startup, labels: { [RUN_LABEL]: op.run } },
      spec: { displayName: 'Npm Start', template: 'reactnext' },
    })]);
    await op.until(`${startup} provisioned`, async () => {
      const r = await kubectl(['get', 'startup', startup, '-o', 'json']);
      return r.code === 0 && isProvisioned(JSON.parse(r.stdout) as Startup);
    }, 120_000);

    const { code, signal, ms } = await op.interrupt();
    expect({ code, signal }, op.diagnose()).toEqual({ code: 0, signal: null });
    expect(ms).toBeLessThan(SHUTDOWN_SECONDS * 1000);
    op.expectCleanStop();
    // The Lease was handed back, so a successor would not wait for it to expire.
    const lease = JSON.parse((await kubectl(['get', 'lease', 'startup-factory-leader', '-n', op.namespace, '-o', 'json'])).stdout) as KubeObject & { spec: { holderIdentity?: string } };
    expect(lease.spec.holderIdentity ?? '').toBe('');
  });

  it('through npm itself: Ctrl-C stops the operator cleanly, npm and all, within the deadline', async () => {
    const op = await launch(['npm', 'start', '--']);
    await op.ready();
    const { code, signal, ms } = await op.interrupt();
    // npm ends by the signal the terminal sent it (a shell shows 130) whatever its script did, so npm's own
    // status says nothing about the operator: its logs do.
    expect(code === 0 || signal === 'SIGINT', op.diagnose()).toBe(true);
    expect(ms).toBeLessThan(SHUTDOWN_SECONDS * 1000);
    op.expectCleanStop();
  });
});
