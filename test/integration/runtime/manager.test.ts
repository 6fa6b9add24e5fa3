import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeConfig, uniqueName } from '../../support/cluster.ts';
import { enqueueSelf } from '../../../src/controller/runtime/informer.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';
import { Manager } from '../../../src/operator/manager.ts';
import { parseOperatorConfig } from '../../../src/operator/config.ts';
import { eventually, logger, newClient, testNamespace } from './helpers.ts';

let client: KubeClient;
let ns: { name: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  client = newClient().client;
  ns = await testNamespace(client, 'rt-manager');
});
afterAll(async () => { await ns.cleanup(); });

describe('Manager', () => {
  it('serves readiness and metrics, reconciles as leader, and on stop finishes work and releases the Lease', async () => {
    const lease = uniqueName('mgr-lease');
    const config = parseOperatorConfig(['--namespace', ns.name, '--lease-name', lease, '--metrics-port', '0', '--bind-address', '127.0.0.1', '--identity', 'test-manager'], {});
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
});
