import { describe, expect, it } from 'vitest';
import { EventRecorder, REPORTING_CONTROLLER } from '../../../src/runtime/events.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { kubectl, uniqueName } from '../../support/cluster.ts';
import { eventually, logger, namespaceFixture } from './helpers.ts';

const { client, ns } = namespaceFixture('rt-events');

type Event = KubeObject & { reason: string; note: string; type: string; action: string; reportingController: string; regarding: { name: string; uid?: string }; series?: { count: number } };

describe('EventRecorder', () => {
  it('creates an events.k8s.io Event about the object, and folds repeats into a series', async () => {
    const subject = await client.create<KubeObject>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'subject', namespace: ns.name } });
    const recorder = new EventRecorder({ client, logger, reportingInstance: 'test-replica' });
    recorder.record(subject, { type: 'Normal', reason: 'Provisioned', action: 'Provision', note: 'namespace and quota ready' });
    recorder.record(subject, { type: 'Warning', reason: 'QuotaExceeded', action: 'Provision', note: 'no room' });
    recorder.record(subject, { type: 'Warning', reason: 'QuotaExceeded', action: 'Provision', note: 'no room' });
    recorder.record(subject, { type: 'Warning', reason: 'QuotaExceeded', action: 'Provision', note: 'no room' });
    await recorder.flush();
    const events = (await client.list<Event>('events.k8s.io/v1', 'Event', { namespace: ns.name })).items
      .filter((e) => e.regarding.uid === subject.metadata.uid);
    expect(events.map((e) => [e.reason, e.type, e.series?.count ?? 1]).sort()).toEqual([
      ['Provisioned', 'Normal', 1],
      ['QuotaExceeded', 'Warning', 3],
    ]);
    expect(events[0]).toMatchObject({ reportingController: REPORTING_CONTROLLER, action: 'Provision', regarding: { name: 'subject' } });
  });

  it('never throws into the caller when the API refuses the event', async () => {
    const recorder = new EventRecorder({ client, logger, reportingInstance: 'test-replica' });
    const ghost: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ghost', namespace: 'no-such-namespace-xyz' } };
    expect(() => recorder.record(ghost, { type: 'Normal', reason: 'Whatever', action: 'Test', note: 'x' })).not.toThrow();
    await expect(recorder.flush()).resolves.toBeUndefined();
  });

  it('puts events about cluster-scoped objects where kubectl describe finds them', async () => {
    const name = uniqueName('rt-events-provider');
    const provider = await client.create<KubeObject>({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', metadata: { name }, spec: { type: 'offline', model: 'offline-v1' } });
    try {
      const recorder = new EventRecorder({ client, logger, reportingInstance: 'test-replica' });
      recorder.record(provider, { type: 'Normal', reason: 'KeyResolved', action: 'Validate', note: 'offline provider needs no key' });
      await recorder.flush();
      const described = await eventually(async () => {
        const { stdout } = await kubectl(['describe', 'aiprovider', name]);
        return stdout.includes('KeyResolved') ? stdout : undefined;
      }, 10_000, 'the event in kubectl describe');
      expect(described).toContain('offline provider needs no key');
    } finally {
      await client.delete({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider', name });
    }
  });
});
