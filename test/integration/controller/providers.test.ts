import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubectl, uniqueName, waitForObject } from '../../support/cluster.ts';
import { apply, startFactory, type TestFactory } from '../../support/factory.ts';

let factory: TestFactory;
let namespace: string;
const names = { offline: uniqueName('aip-offline'), openai: uniqueName('aip-openai'), foreign: uniqueName('aip-foreign') };

beforeAll(async () => {
  factory = await startFactory(['--leader-elect', 'false']);
  namespace = factory.operator.manager.config.namespace;
  await kubectl(['create', 'namespace', namespace]);
});
afterAll(async () => {
  await kubectl(['delete', 'aiproviders', ...Object.values(names), '--ignore-not-found', '--wait=false']);
  await factory?.cleanup();
});

type Provider = { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
const ready = (p: Provider) => p.status?.conditions?.find((c) => c.type === 'Ready');
const provider = (name: string, spec: Record<string, unknown>) => stringify({
  apiVersion: 'startupfactory.dev/v1alpha1', kind: 'AIProvider',
  metadata: { name, labels: { 'test.startupfactory.dev/run': factory.run } }, spec,
});

describe('AIProvider readiness', () => {
  it('marks the offline provider Ready, labelled as offline', async () => {
    await apply([provider(names.offline, { type: 'offline', model: 'offline' })]);
    const p = await waitForObject<Provider>(['aiprovider', names.offline], (o) => ready(o)?.status === 'True', 'offline provider Ready');
    expect(ready(p)).toMatchObject({ reason: 'Offline', message: expect.stringContaining('offline') });
  });

  it('waits with SecretNotFound until the key Secret exists, then turns Ready without exposing the key', async () => {
    await apply([provider(names.openai, { type: 'openai', model: 'gpt-4o', secretRef: { name: 'openai-key' } })]);
    const missing = await waitForObject<Provider>(['aiprovider', names.openai], (o) => ready(o)?.status === 'False', 'openai provider not Ready');
    expect(ready(missing)).toMatchObject({ reason: 'SecretNotFound', message: `Secret ${namespace}/openai-key does not exist` });

    const key = 'sk-test-never-shown-0123456789';
    expect((await kubectl(['-n', namespace, 'create', 'secret', 'generic', 'openai-key', `--from-literal=api-key=${key}`])).code).toBe(0);
    const found = await waitForObject<Provider>(['aiprovider', names.openai], (o) => ready(o)?.status === 'True', 'openai provider Ready once the key exists', 90_000);
    expect(ready(found)?.reason).toBe('KeyResolved');
    const shown = await kubectl(['get', 'aiprovider', names.openai, '-o', 'yaml']);
    const events = await kubectl(['get', 'events', '-A', '-o', 'yaml']);
    expect(shown.stdout + events.stdout).not.toContain(key);
  });

  it('refuses to read a key from another namespace', async () => {
    await apply([provider(names.foreign, { type: 'anthropic', model: 'claude-sonnet-4-5', secretRef: { namespace: 'kube-system', name: 'anything' } })]);
    const p = await waitForObject<Provider>(['aiprovider', names.foreign], (o) => ready(o)?.status === 'False', 'foreign provider refused');
    expect(ready(p)?.reason).toBe('SecretNamespaceNotAllowed');
  });
});
