/**
 * --api-qps and --api-burst, from the command line to the requests on the wire: the
 * operator composed from parsed flags (as `startup-factory operator` does) against a local
 * HTTP server, on a clock that moves only when told, so what the limiter lets through at
 * each instant is exact rather than a rate measured on a busy machine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { createLogger } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { parseOperatorConfig } from './config.ts';
import { buildOperator } from './operator.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function apiServer(): Promise<{ kubeConfig: KubeConfig; arrived: () => number }> {
  let arrived = 0;
  server = createServer((_req, res) => {
    arrived++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'NamespaceList', items: [], metadata: { resourceVersion: '1' } }));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  return { kubeConfig, arrived: () => arrived };
}

/** Lets every callback a clock step released run up to its request leaving (microtasks, then one macrotask turn). */
const settle = () => new Promise((r) => setImmediate(r));

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check(), what).toBe(true);
}

describe('--api-qps and --api-burst', () => {
  it.each([
    ['flags', ['--api-qps', '5', '--api-burst', '2'], {}],
    ['their environment twins', [], { SF_API_QPS: '5', SF_API_BURST: '2' }],
  ])('bound the operator\'s API requests when given as %s: a burst at once, then qps per second', async (_how, flags, env) => {
    const { kubeConfig, arrived } = await apiServer();
    const clock = new ManualClock(0);
    const config = parseOperatorConfig([...flags, '--dashboard-auth', 'off'], env);
    const operator = buildOperator(config, { kubeConfig, clock, logger: createLogger({ level: 'silent' }), metrics: new Metrics({ defaultMetrics: false }) });
    const { client } = operator.manager;
    const sent = () => client.requestCounts().total;

    const timers = clock.pending();
    const requests = Array.from({ length: 12 }, () => client.request('GET', '/api/v1/namespaces'));
    // Every request has taken its reservation (a timer on the clock) before time moves.
    await until(() => clock.pending() >= timers + 12, 'twelve requests waiting on the limiter');
    // At each instant, exactly what a bucket of 2 refilled at 5 per second allows: request k waits 200 ms × (k - 2).
    for (const [at, expected] of [[0, 2], [199, 2], [200, 3], [999, 6], [1000, 7], [1999, 11], [2000, 12]] as const) {
      clock.advance(at - clock.now());
      await settle();
      expect(sent(), `sent by ${at} ms`).toBe(expected);
    }
    await Promise.all(requests);
    expect(arrived()).toBe(12);

    // Two seconds idle refill ten tokens' worth, but the bucket holds the burst only: two at once again, then 5 per second.
    clock.advance(4000 - clock.now());
    const later = Array.from({ length: 4 }, () => client.request('GET', '/api/v1/namespaces'));
    await until(() => clock.pending() >= timers + 4, 'four more requests waiting on the limiter');
    for (const [at, expected] of [[4000, 14], [4199, 14], [4200, 15], [4400, 16]] as const) {
      clock.advance(at - clock.now());
      await settle();
      expect(sent(), `sent by ${at} ms`).toBe(expected);
    }
    await Promise.all(later);
    expect(arrived()).toBe(16);
  });
});
