/**
 * A task that goes away in the middle of a streamed answer (its pod killed, its deadline
 * passed) must not leave its call hanging in the gateway: the upstream is cut, the
 * provider's slot freed, and the reservation settled, so the budget it holds comes back
 * now and not when the gateway stops. The client here stops reading first, so the
 * gateway's writes back up before the client leaves: the case where the gateway used to
 * wait for a drain that never came.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Startup, StartupSpec } from '../../../src/api/index.ts';
import type { Attempt } from '../../../src/gateway/attempts.ts';
import type { ProviderKeys } from '../../../src/gateway/keys.ts';
import { LEDGER_DATA_KEY, LedgerStore, ledgerName } from '../../../src/gateway/ledger-store.ts';
import { parseLedger } from '../../../src/gateway/ledger.ts';
import { GatewayMetrics } from '../../../src/gateway/metrics.ts';
import { ModelProxy } from '../../../src/gateway/models.ts';
import { KubeClient, type KubeObject } from '../../../src/kube/client.ts';
import { systemClock } from '../../../src/lib/clock.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import type { ProviderView } from '../../../src/providers/candidates.ts';
import { kubeConfig, kubectl, uniqueName, waitFor } from '../../support/cluster.ts';

const namespace = uniqueName('sf-client-left');
const client = new KubeClient(kubeConfig(), { qps: 200, burst: 400 });
const logger = createLogger({ level: 'silent' });
const owners: string[] = [];
const servers: Server[] = [];

const listen = async (handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> => {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

beforeAll(async () => {
  expect((await kubectl(['create', 'namespace', namespace])).code).toBe(0);
});

afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  if (owners.length > 0) await kubectl(['delete', 'startup', ...owners, '--ignore-not-found', '--wait=false']);
  await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
});

describe('a client that leaves mid-answer', () => {
  it('has its call cut upstream, its slot freed and its reservation settled at once', async () => {
    const startup = await client.create<Startup>({
      apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name: uniqueName('left') },
      spec: { displayName: 'Left', template: 'reactnext', suspend: true },
    } as Startup);
    owners.push(startup.metadata.name);

    // An upstream that streams far more than the sockets between it and the client can hold.
    let upstreamClosed = false;
    const chunk = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'x'.repeat(64 * 1024) } }] })}\n\n`;
    const upstreamPort = await listen((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => { for (let i = 0; i < 8; i++) res.write(chunk); }, 5);
      res.on('close', () => { upstreamClosed = true; clearInterval(timer); });
    });

    const ledger = new LedgerStore({ client, namespace, holder: 'gateway-test', clock: systemClock, logger, onChange: () => undefined });
    const proxy = new ModelProxy({
      ledger, keys: { get: async () => 'sk-test', invalidate: () => undefined } as unknown as ProviderKeys,
      metrics: new GatewayMetrics(new Registry()), logger, clock: systemClock, holder: 'gateway-test',
      offline: async () => '', cache: { maxAgeMs: 0, maxBytes: 0 },
    });
    const provider: ProviderView = {
      name: 'mock', ready: true,
      spec: {
        type: 'openai', model: 'gpt-test', baseURL: `http://127.0.0.1:${upstreamPort}/v1`, maxConcurrency: 1, timeoutSeconds: 600,
        pricing: { inputPerMillionTokens: '1.000000', outputPerMillionTokens: '2.000000' },
      } as ProviderView['spec'],
    };
    const attempt = {
      startup, namespace: 'unused', template: undefined,
      spec: { ai: { quota: { callsPerHour: 100, costPerDay: '10.000000' } } } as StartupSpec,
      job: { name: 'market-research-1', uid: 'job-uid', task: 'market-research', attempt: 1, provider: 'mock' },
      task: { name: 'market-research', type: 'market-research' },
    } as unknown as Attempt;
    let handled = false;
    const gatewayPort = await listen((req, res) => {
      void proxy.handle(req, res, attempt, provider, 'openai').then(() => { handled = true; });
    });

    const body = JSON.stringify({ model: 'gpt-test', stream: true, max_completion_tokens: 1000, messages: [{ role: 'user', content: 'hello' }] });
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gatewayPort, method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } }, (res) => {
        expect(res.statusCode).toBe(200);
        // Read nothing for a while, so the gateway's writes back up, then leave.
        res.pause();
        setTimeout(() => { req.destroy(); resolve(); }, 1500);
      });
      req.on('error', (err) => { if (!req.destroyed) reject(err); });
      req.end(body);
    });

    await waitFor('the gateway to finish the call the client left', async () => handled && upstreamClosed, 10_000);
    // Stopping writes what is queued and gives back the spares made with the reservation.
    await ledger.stop(5000);
    const ledgerState = await waitFor('the settlement in the ledger', async () => {
      const cm = await client.getOptional<KubeObject & { data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: ledgerName(startup.metadata.name) });
      const state = cm?.data?.[LEDGER_DATA_KEY] ? parseLedger(cm.data[LEDGER_DATA_KEY]) : undefined;
      return state && Object.keys(state.open).length === 0 && state.calls === 1 && state;
    }, 10_000);
    // What the provider billed for a cut stream is unknown: the call is charged its whole reservation, never nothing.
    expect(ledgerState.costMicros).toBeGreaterThan(0);
  });
});
