import { afterAll, describe, expect, it } from 'vitest';
import { kubeConfig } from '../../support/cluster.ts';
import { Informer } from '../../../src/runtime/informer.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';
import { ApiProxy } from '../../support/api-proxy.ts';
import { capturingLogger, eventually, logger, newClient, namespaceFixture } from './helpers.ts';

const { client, ns } = namespaceFixture('rt-informer');
const stops: (() => Promise<void>)[] = [];
// Registered after the fixture's, so it runs first: informers stop before their namespace goes.
afterAll(async () => {
  for (const stop of stops) await stop();
});

const configMap = (name: string, data: Record<string, string>, labels: Record<string, string> = { suite: 'informer' }) =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns.name, labels }, data });

function recordingInformer(c: KubeClient, extra: Partial<ConstructorParameters<typeof Informer>[0]> = {}) {
  const seen: string[] = [];
  const informer = new Informer<KubeObject & { data?: Record<string, string> }>({
    client: c, logger, apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, labelSelector: 'suite=informer',
    backoff: { baseMs: 100, maxMs: 1000 }, ...extra,
  });
  informer.addHandlers({
    add: (o) => seen.push(`add ${o.metadata.name}`),
    update: (o, old) => seen.push(o === old ? `resync ${o.metadata.name}` : `update ${o.metadata.name}`),
    delete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  informer.start();
  stops.push(() => informer.stop());
  return { informer, seen };
}

describe('Informer against the API server', () => {
  it('lists, then sees creates, updates and deletes, and only label-selected objects', async () => {
    await client.create(configMap('before', { a: '1' }));
    const { informer, seen } = recordingInformer(client);
    await informer.waitForSync();
    expect(informer.healthy()).toBe(true);
    expect(informer.get('before', ns.name)?.data).toEqual({ a: '1' });
    expect(informer.get('before', ns.name)?.metadata).not.toHaveProperty('managedFields');

    await client.create(configMap('after', { b: '1' }));
    await client.create(configMap('unrelated', { c: '1' }, { suite: 'other' }));
    await client.serverSideApply(configMap('after', { b: '2' }));
    await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, name: 'before' });
    await eventually(() => seen.includes('delete before'), 10_000, 'the delete event');
    expect(seen).toEqual(['add before', 'add after', 'update after', 'delete before']);
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['after']);
    expect(informer.get('after', ns.name)?.data).toEqual({ b: '2' });
    expect(informer.get('unrelated', ns.name)).toBeUndefined();
  });

  it('hands every cached object to update on each resync', async () => {
    const { informer, seen } = recordingInformer(client, { resyncMs: 300 });
    await informer.waitForSync();
    await eventually(() => seen.filter((s) => s === 'resync after').length >= 2, 5000, 'two resyncs');
  });

  it('recovers when its connections are cut, relisting what changed meanwhile, and says so in healthy()', async () => {
    const proxy = new ApiProxy();
    stops.push(() => proxy.stop());
    const kc = await proxy.start(new URL(kubeConfig().getCurrentCluster()!.server));
    const { log, lines } = capturingLogger();
    const { informer } = recordingInformer(newClient(kc).client, { logger: log });
    await informer.waitForSync();
    // Sync means listed; an event arriving means the watch is open too, so the cut hits it.
    await client.create(configMap('before-cut', { w: '1' }));
    await eventually(() => informer.get('before-cut', ns.name), 10_000, 'a watch event before the cut');
    const connectionsBefore = proxy.connections;

    proxy.reset();
    // Unhealthy only briefly (until the relist), so read the informer's own account of it.
    await eventually(() => lines.some((l) => l.includes('informer failed; restarting with a relist')), 5000, 'the informer to notice the cut');
    await client.create(configMap('during-outage', { x: '1' }));
    await eventually(() => informer.get('during-outage', ns.name), 15_000, 'the object created during the outage');
    await eventually(() => informer.healthy(), 5000, 'healthy again');
    expect(lines.some((l) => l.includes('informer recovered'))).toBe(true);
    expect(proxy.connections).toBeGreaterThan(connectionsBefore);

    await client.create(configMap('after-recovery', { y: '1' }));
    await eventually(() => informer.get('after-recovery', ns.name), 10_000, 'a watch event after recovery');
  });

  it('restarts a watch that went silent (watchdog), then sees what it missed', async () => {
    const proxy = new ApiProxy();
    stops.push(() => proxy.stop());
    const kc = await proxy.start(new URL(kubeConfig().getCurrentCluster()!.server));
    const { log, lines } = capturingLogger();
    const { client: proxied, metrics } = newClient(kc);
    // Watches end every second, four times inside the watchdog's window: a slow reconnect on a
    // loaded machine must not look like silence, and only a frozen connection should.
    const { informer } = recordingInformer(proxied, { watchdogMs: 4000, watchTimeoutSeconds: [1, 1], logger: log });
    await informer.waitForSync();
    const watches = async () => (await metrics.apiRequests.get()).values.filter((v) => v.labels.verb === 'watch').reduce((n, v) => n + v.value, 0);
    const watchdogFired = () => lines.some((l) => l.includes('no watch event, bookmark or reconnection for 4000 ms'));
    // Healthy watches end cleanly and resume (all on the one pooled connection): three of them, and the watchdog stays quiet.
    const resumed = await watches();
    await eventually(async () => (await watches()) >= resumed + 3, 15_000, 'three watches to end and resume');
    expect(watchdogFired()).toBe(false);

    proxy.freeze();
    await client.create(configMap('while-silent', { z: '1' }));
    // The frozen watch cannot deliver it: only the watchdog's restart (a relist on a fresh connection) can,
    // so by the time the informer has it the watchdog must have fired.
    let firedBeforeSeen = false;
    await eventually(() => {
      const fired = watchdogFired();
      const seen = informer.get('while-silent', ns.name);
      if (seen) firedBeforeSeen = fired;
      return seen;
    }, 20_000, 'the watchdog to restart the watch');
    expect(firedBeforeSeen).toBe(true);
  });
});
