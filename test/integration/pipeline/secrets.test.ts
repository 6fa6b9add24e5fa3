/**
 * A planted provider key appears nowhere but in its Secret (in the operator's namespace)
 * and on the wire to the provider: not in any object of the startup's namespace, not in
 * a Job, a pod's environment, a pod's log, an Event, the Startup's status, or the
 * operator's own logs.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../../cluster/paths.ts';
import { AiFixture } from '../../support/ai-fixture/server.ts';
import { validOutput } from '../../support/ai-fixture/replies.ts';
import { isLocalCluster, kubectl, uniqueName } from '../../support/cluster.ts';
import { apply, startFactory, type TestFactory } from '../../support/factory.ts';
import { applyProvider, waitForPhase } from '../../support/pipeline.ts';

const canary = `sk-canary-${randomBytes(12).toString('hex')}`;
/** The forms a key could leak in: as is, base64 (Secret data), and JSON-escaped. */
const forms = [canary, Buffer.from(canary).toString('base64'), Buffer.from(canary).toString('base64url').slice(0, 24)];
const logs: string[] = [];
let factory: TestFactory;
let upstream: AiFixture;
const name = uniqueName('canary');

beforeAll(async () => {
  factory = await startFactory([], { logs: new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } }) });
  upstream = new AiFixture({ apiKey: canary, reply: validOutput });
  await upstream.start();
  const provider = uniqueName('canary-openai');
  await applyProvider(factory, { name: provider, type: 'openai', baseURL: `${upstream.url}/v1`, key: canary, input: '2.50', output: '10.00' });
  await apply([factory.manifest(name, { displayName: 'Canary', ai: { providers: [provider] } })]);
  const done = await waitForPhase(factory, name, ['Succeeded', 'Failed']);
  expect(done.status?.phase).toBe('Succeeded');
});

afterAll(async () => {
  await factory?.cleanup();
  await upstream?.close();
});

const leaks = (text: string) => forms.filter((f) => text.includes(f));

describe('a provider key', () => {
  it('was used: the provider saw it on every call', () => {
    expect(upstream.requests.length).toBeGreaterThan(0);
    for (const r of upstream.requests) expect(r.headers.authorization).toBe(`Bearer ${canary}`);
  });

  it('is in no object of the startup\'s namespace, Jobs, pods and Secrets included', async () => {
    const { stdout, code, stderr } = await kubectl(['get', 'all,configmaps,secrets,serviceaccounts,networkpolicies,resourcequotas,limitranges', '-n', `startup-${name}`, '-o', 'json']);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout).items.length).toBeGreaterThan(10);
    expect(leaks(stdout)).toEqual([]);
  });

  it('is in no Event, in no Startup, and in no ConfigMap or Secret outside the operator\'s namespace', async () => {
    const events = await kubectl(['get', 'events', '-A', '-o', 'json']);
    expect(leaks(events.stdout)).toEqual([]);
    const startup = await kubectl(['get', 'startup', name, '-o', 'json']);
    expect(leaks(startup.stdout)).toEqual([]);
    const stores = JSON.parse((await kubectl(['get', 'configmaps,secrets', '-A', '-o', 'json'])).stdout) as { items: { metadata: { namespace: string } }[] };
    const outside = stores.items.filter((o) => o.metadata.namespace !== factory.namespace);
    expect(leaks(JSON.stringify(outside))).toEqual([]);
    const inside = stores.items.filter((o) => o.metadata.namespace === factory.namespace);
    expect(leaks(JSON.stringify(inside)).length, 'the key does live in its Secret').toBeGreaterThan(0);
  });

  it('is in no task pod\'s environment or log', async () => {
    const pods = JSON.parse((await kubectl(['get', 'pods', '-n', `startup-${name}`, '-o', 'json'])).stdout) as { items: unknown[] };
    expect(pods.items.length).toBeGreaterThan(0);
    expect(leaks(JSON.stringify(pods))).toEqual([]);
    if (!isLocalCluster()) return;
    const files = readdirSync(paths.logs).filter((f) => f.startsWith(`startup-${name}_`));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(leaks(readFileSync(join(paths.logs, f), 'utf8')), f).toEqual([]);
  });

  it('is in none of the operator\'s logs, at debug level', () => {
    expect(logs.length).toBeGreaterThan(20);
    expect(leaks(logs.join(''))).toEqual([]);
  });
});
