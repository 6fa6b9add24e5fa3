import { describe, expect, it } from 'vitest';
import { kubeConfig, uniqueName } from '../../support/cluster.ts';
import { enqueueSelf } from '../../../src/runtime/informer.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { retryOnConflict } from '../../../src/kube/errors.ts';
import { microTime } from '../../../src/kube/time.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { parseOperatorConfig } from '../../../src/operator/config.ts';
import { eventually, logger, namespaceFixture } from './helpers.ts';

const { client, ns } = namespaceFixture('rt-manager');

describe('Manager', () => {
  it('serves readiness and metrics, reconciles as leader, and on stop finishes work and releases the Lease', async () => {
    const lease = uniqueName('mgr-lease');
    const config = parseOperatorConfig(['--namespace', ns.name, '--lease-name', lease, '--metrics-port', '0', '--dashboard-port', '0', '--bind-address', '127.0.0.1', '--identity', 'test-manager'], {});
    const manager = new Manager({ config, kubeConfig: kubeConfig(), logger });
    const reconciled: string[] = [];
    const informer = manager.informer({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, labelSelector: 'suite=manager' });
    const controller = manager.controller({ name: 'configmaps', reconcile: async (key) => { reconciled.push(key); } });
    informer.addHandlers(enqueueSelf((k) => controller.enqueue(k)));
    await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'first', namespace: ns.name, labels: { suite: 'manager' } } });

    const stop = new AbortController();
    const running = manager.runUntil(stop.signal);
    await eventually(() => reconciled.includes(`${ns.name}/first`), 20_000, 'the first reconcile');
    const port = manager.http.address()!.port;
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(readyz.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('startup_factory_reconcile_total{controller="configmaps",result="success"}');
    expect(metrics).toMatch(/startup_factory_api_requests_total\{verb="list",code="200"\}/);

    await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'second', namespace: ns.name, labels: { suite: 'manager' } } });
    await eventually(() => reconciled.includes(`${ns.name}/second`), 10_000, 'a reconcile from a watch event');

    stop.abort();
    expect(await running).toBe(0);
    const leaseObj = await client.get<KubeObject & { spec: { holderIdentity?: string } }>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns.name, name: lease });
    expect(leaseObj.spec.holderIdentity ?? '').toBe('');
  });

  it('on stop keeps reconciling while leader-only work drains (the gateway\'s calls in flight), then stops the controllers and releases the Lease', async () => {
    const lease = uniqueName('mgr-lease');
    const config = parseOperatorConfig(['--namespace', ns.name, '--lease-name', lease, '--metrics-port', '0', '--dashboard-port', '0', '--bind-address', '127.0.0.1', '--identity', 'draining'], {});
    const manager = new Manager({ config, kubeConfig: kubeConfig(), logger, shutdownDeadlineMs: 10_000 });
    let reconciles = 0;
    const controller = manager.controller({ name: 'ticker', reconcile: async () => { reconciles++; return { requeueAfter: 50 }; } });
    controller.enqueue('tick');
    const drain = { from: 0, reconciles: 0 };
    manager.leaderRunnable({
      name: 'slow-drain', start: () => undefined,
      stop: async () => {
        drain.from = reconciles;
        await new Promise((r) => setTimeout(r, 1500));
        drain.reconciles = reconciles - drain.from;
      },
    });
    const stop = new AbortController();
    const running = manager.runUntil(stop.signal);
    await eventually(() => reconciles > 0, 10_000, 'the controller to run as leader');
    stop.abort();
    expect(await running).toBe(0);
    // A reconcile every 50 ms or so all through the 1.5 s drain, none after it.
    expect(drain.reconciles).toBeGreaterThan(5);
    expect(reconciles - drain.from - drain.reconciles).toBeLessThanOrEqual(1);
    const held = await client.get<KubeObject & { spec: { holderIdentity?: string } }>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns.name, name: lease });
    expect(held.spec.holderIdentity ?? '').toBe('');
  });

  it('stops its controllers and ends with exit code 1 when another holder takes the Lease', async () => {
    const lease = uniqueName('mgr-lease');
    const config = parseOperatorConfig(['--namespace', ns.name, '--lease-name', lease, '--metrics-port', '0', '--dashboard-port', '0', '--bind-address', '127.0.0.1', '--identity', 'victim'], {});
    const manager = new Manager({ config, kubeConfig: kubeConfig(), logger, lease: { durationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 } });
    let reconciles = 0;
    const controller = manager.controller({ name: 'ticker', reconcile: async () => { reconciles++; return { requeueAfter: 100 }; } });
    controller.enqueue('tick');
    const stop = new AbortController();
    const running = manager.runUntil(stop.signal);
    await eventually(() => reconciles > 0, 10_000, 'the controller to run as leader');

    type Lease = KubeObject & { spec: Record<string, unknown> };
    const ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: ns.name, name: lease };
    // The victim renews every 500 ms, so the takeover may race a renewal: re-read on conflict.
    await retryOnConflict(async () => {
      const held = await client.get<Lease>(ref);
      return client.replace<Lease>({ ...held, spec: { ...held.spec, holderIdentity: 'intruder', renewTime: microTime(Date.now()), leaseDurationSeconds: 60 } });
    });

    expect(await running).toBe(1);
    expect(controller.queue.isShuttingDown()).toBe(true);
    const after = reconciles;
    await new Promise((r) => setTimeout(r, 500));
    expect(reconciles).toBe(after);
    expect((await client.get<Lease>(ref)).spec.holderIdentity).toBe('intruder');
    stop.abort();
  });
});
