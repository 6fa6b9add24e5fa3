/**
 * The chart installed for real, for the files that run the operator from it: a release in
 * a test factory's namespace, managing only that factory's Startups, its task Jobs calling
 * the gateway through the gateway Service's node port (the local pod runner serves node
 * ports, not ClusterIPs, and no cluster DNS resolves the Service's name).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseUsd } from '../../../src/api/index.ts';
import type { Limits } from '../../../src/gateway/ledger.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';
import { validOutput } from '../../support/ai-fixture/replies.ts';
import type { AiFixture } from '../../support/ai-fixture/server.ts';
import { readAuditLog, spans, writesOf, type Span, type Write } from '../../support/audit.ts';
import { helm, kubectl, localClusterPaths, uniqueName, waitFor } from '../../support/cluster.ts';
import { RUN_LABEL, freePort, startFactory, type TestFactory } from '../../support/factory.ts';
import { LedgerWatch } from '../../support/ledger-audit.ts';
import { Fixtures, startMockProvider, type MockProvider } from '../../support/pipeline.ts';
import { chartPath } from './render.ts';

/**
 * The node ports of each file that installs the chart, which may run at once: the gateway
 * Service's, and the pool of its Startups.
 */
export const NODE_PORTS = {
  install: { gateway: 32750, startups: '32700-32719' },
  failover: { gateway: 32751, startups: '32720-32729' },
  upgrade: { gateway: 32752, startups: '32730-32739' },
} as const;

export type OperatorPod = {
  metadata: { name: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { serviceAccountName: string };
  status: { phase: string; podIP?: string; containerStatuses?: { restartCount: number }[] };
};

export type Release = {
  name: string;
  namespace: string;
  /** The name of the objects it makes (the Deployment, the ServiceAccount, the Roles). */
  fullname: string;
  ports: { metrics: number; gateway: number; dashboard: number };
  /** The user the operator's requests are made as. */
  serviceAccount: string;
};

export const LEASE_NAME = 'startup-factory-leader';

/**
 * `helm install --wait`, with `set` last (it wins). The operator's ports are free ones of
 * the host: a pod's own loopback address cannot take a port a wildcard listener of the host has.
 */
export async function installChart(o: { namespace: string; run: string; nodePorts: { gateway: number; startups: string }; set?: string[] }): Promise<Release> {
  const name = uniqueName('sf');
  const ports = { metrics: await freePort(), gateway: await freePort(), dashboard: await freePort() };
  const res = await helm([
    'install', name, chartPath, '--namespace', o.namespace, '--skip-crds', '--wait', '--timeout', '120s',
    '--set', `ports.metrics=${ports.metrics}`, '--set', `ports.gateway=${ports.gateway}`, '--set', `ports.dashboard=${ports.dashboard}`,
    '--set', 'service.gateway.type=NodePort', '--set', `service.gateway.nodePort=${o.nodePorts.gateway}`,
    '--set', `operator.pipeline.gatewayUrl=http://127.0.0.1:${o.nodePorts.gateway}`,
    '--set', `operator.startupSelector=${RUN_LABEL}=${o.run}`, '--set', `operator.nodePortRange=${o.nodePorts.startups}`,
    '--set', 'builtinTemplates.enabled=false',
    ...(o.set ?? []),
  ]);
  expect(res.code, res.stderr).toBe(0);
  const fullname = `${name}-startup-factory`;
  return { name, namespace: o.namespace, fullname, ports, serviceAccount: `system:serviceaccount:${o.namespace}:${fullname}` };
}

export async function operatorPods(release: Release): Promise<OperatorPod[]> {
  const res = await kubectl(['get', 'pods', '-n', release.namespace, '-l', `app.kubernetes.io/instance=${release.name}`, '-o', 'json']);
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { items: OperatorPod[] }).items;
}

/** The pod's log: the pod runner keeps it in a file; a cluster with kubelets serves it. */
export async function podLog(namespace: string, pod: string): Promise<string> {
  const local = localClusterPaths();
  if (local) return readFile(join(local.logs, `${namespace}_${pod}.log`), 'utf8');
  const res = await kubectl(['logs', '-n', namespace, pod]);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
}

/** The release's operator writes as the local cluster's audit log has them, each process's span printed. */
export async function auditedWrites(release: Release): Promise<{ writes: Write[]; writers: Span[] }> {
  const local = localClusterPaths();
  if (!local) throw new Error('the audit log is the local cluster\'s');
  const writes = writesOf(await readAuditLog(local.auditLog, release.serviceAccount), release.serviceAccount);
  const writers = spans(writes);
  console.table(writers.map((s) => ({ writer: s.writer, from: new Date(s.from).toISOString(), to: new Date(s.to).toISOString(), writes: s.writes })));
  return { writes, writers };
}

type Lease = KubeObject & { spec?: { holderIdentity?: string; acquireTime?: string; renewTime?: string } };

/** Who held the Lease, each change as it was seen (`at`, this machine's clock). */
export type Holding = { holder: string; at: number };

/** Records every change of the Lease's holder ('' while released) until stopped. */
export class LeaseWatch {
  readonly holdings: Holding[] = [];
  readonly #abort = new AbortController();
  #running: Promise<void> = Promise.resolve();

  static async start(client: KubeClient, namespace: string, name = LEASE_NAME): Promise<LeaseWatch> {
    const watch = new LeaseWatch();
    const path = await client.resourcePath('coordination.k8s.io/v1', 'Lease', namespace);
    const listed = await client.list<Lease>('coordination.k8s.io/v1', 'Lease', { namespace, fieldSelector: `metadata.name=${name}` });
    for (const lease of listed.items) watch.#record(lease);
    watch.#running = watch.#loop(client, path, name, listed.metadata.resourceVersion);
    return watch;
  }

  /** The holder now, as last seen. */
  get holder(): string | undefined {
    return this.holdings.at(-1)?.holder;
  }

  /** Resolves with the first holding after `since` whose holder passes `test`. */
  until(what: string, test: (holder: string) => boolean, since = 0, timeoutMs = 60_000): Promise<Holding> {
    return waitFor(what, async () => this.holdings.find((h) => h.at >= since && test(h.holder)), timeoutMs, 20);
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #loop(client: KubeClient, path: string, name: string, from: string | undefined): Promise<void> {
    let rv = from;
    while (!this.#abort.signal.aborted) {
      try {
        for await (const event of client.watch<Lease>(path, { fieldSelector: `metadata.name=${name}`, resourceVersion: rv, allowWatchBookmarks: true }, this.#abort.signal)) {
          if (event.type === 'ERROR') { rv = undefined; break; }
          rv = event.object.metadata.resourceVersion;
          if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#record(event.object);
          if (event.type === 'DELETED') this.#record({ ...event.object, spec: {} });
        }
      } catch {
        if (this.#abort.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  #record(lease: Lease): void {
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.holder) this.holdings.push({ holder, at: Date.now() });
  }
}

const QUOTA = { callsPerHour: 1000, costPerDay: '50.00' };

/**
 * The chart installed in a test factory's namespace, with what its pipelines need and
 * what a suite watches them by: a mock provider slow enough that a task's call is in
 * flight most of the time it runs, the Lease's holders, every version of every ledger.
 */
export class ReleaseUnderLoad {
  readonly limits: Limits = { callsPerHour: QUOTA.callsPerHour, costPerDayMicros: parseUsd(QUOTA.costPerDay) };
  readonly #fixtures = new Fixtures();
  factory!: TestFactory;
  release!: Release;
  lease!: LeaseWatch;
  ledgers!: LedgerWatch;
  upstream!: AiFixture;
  provider!: MockProvider;

  async start(o: { nodePorts: { gateway: number; startups: string }; prefix: string }): Promise<this> {
    this.factory = await startFactory([], { external: true });
    this.release = await installChart({ namespace: this.factory.namespace, run: this.factory.run, nodePorts: o.nodePorts });
    this.lease = await LeaseWatch.start(this.factory.client, this.factory.namespace);
    this.ledgers = await LedgerWatch.start(this.factory.client, this.factory.namespace);
    ({ fixture: this.upstream, provider: this.provider } = await startMockProvider(this.factory, this.#fixtures, { prefix: o.prefix, type: 'openai', latencyMs: 1500, reply: validOutput }));
    return this;
  }

  /** A Startup of the factory, on the mock provider, within a budget its pipeline fits. */
  startup(name: string): string {
    return this.factory.manifest(name, { displayName: name, industry: 'fintech', ai: { providers: [this.provider.name], quota: QUOTA } });
  }

  /** Whatever `start` got to, undone. */
  async stop(): Promise<void> {
    await this.lease?.stop();
    await this.ledgers?.stop();
    if (this.release) await helm(['uninstall', this.release.name, '--namespace', this.release.namespace, '--wait', '--timeout', '60s']);
    await this.factory?.cleanup();
    await this.#fixtures.close();
  }
}
