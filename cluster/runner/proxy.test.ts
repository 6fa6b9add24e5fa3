import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { NodePortProxy, nodePorts, serviceEndpoints, type RunningPod } from './proxy.ts';

const service = (selector: Record<string, string> | undefined, ports: V1ServicePort[]): V1Service => ({
  metadata: { name: 'gw', namespace: 'ops' }, spec: { selector, ports },
});
const pod = (name: string, labels: Record<string, string>, extra: Partial<V1Pod['metadata']> = {}, namespace = 'ops'): V1Pod => ({
  metadata: { name, namespace, labels, ...extra },
  spec: { containers: [{ name: 'main', ports: [{ name: 'gateway', containerPort: 8081 }, { name: 'udp', containerPort: 53, protocol: 'UDP' }] }] },
});
const running = (p: V1Pod, ip: string, ready = true): RunningPod => ({ pod: p, ip, ready });

describe('serviceEndpoints', () => {
  const gateway = service({ app: 'op', leader: 'true' }, [{ port: 80, targetPort: 'gateway' }]);
  const port = gateway.spec!.ports![0]!;

  it('leads to the ready pods its selector picks in its namespace, at the named container port', () => {
    const pods = [
      running(pod('leader', { app: 'op', leader: 'true' }), '127.1.0.1'),
      running(pod('standby', { app: 'op', leader: 'false' }), '127.1.0.2'),
      running(pod('elsewhere', { app: 'op', leader: 'true' }, {}, 'other'), '127.1.0.3'),
      running(pod('starting', { app: 'op', leader: 'true' }), '127.1.0.4', false),
      running(pod('going', { app: 'op', leader: 'true' }, { deletionTimestamp: new Date() }), '127.1.0.5'),
    ];
    expect(serviceEndpoints(gateway, port, pods)).toEqual([{ ip: '127.1.0.1', port: 8081 }]);
  });

  it('takes a numeric target port as it is, the port itself when there is none, and skips a pod without the named one', () => {
    const pods = [running(pod('a', { app: 'op', leader: 'true' }), '127.1.0.1')];
    expect(serviceEndpoints(service({ app: 'op' }, [{ port: 80, targetPort: 9000 }]), { port: 80, targetPort: 9000 }, pods)).toEqual([{ ip: '127.1.0.1', port: 9000 }]);
    expect(serviceEndpoints(service({ app: 'op' }, [{ port: 80 }]), { port: 80 }, pods)).toEqual([{ ip: '127.1.0.1', port: 80 }]);
    expect(serviceEndpoints(service({ app: 'op' }, []), { port: 53, targetPort: 'udp' }, pods)).toEqual([]);
  });

  it('leads nowhere without a selector', () => {
    expect(serviceEndpoints(service(undefined, [{ port: 80 }]), { port: 80 }, [running(pod('a', {}), '127.1.0.1')])).toEqual([]);
  });
});

describe('nodePorts', () => {
  it('lists the TCP node ports of every Service', () => {
    const a = service({ app: 'a' }, [{ port: 80, nodePort: 30080 }, { port: 53, nodePort: 30053, protocol: 'UDP' }, { port: 8080 }]);
    expect([...nodePorts([a]).keys()]).toEqual([30080]);
  });
});

describe('NodePortProxy', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => { await Promise.all(closers.splice(0).map((c) => c())); });

  const listen = async (server: Server, host: string, port = 0): Promise<number> => {
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    closers.push(() => new Promise((r) => server.close(r)));
    return (server.address() as AddressInfo).port;
  };
  const echo = (reply: string) => createServer((s) => s.on('data', () => s.end(reply)));
  /** What a client connecting to the node port gets back: the reply, or '' when the connection is closed on it. */
  const ask = (port: number) => new Promise<string>((resolve) => {
    let got = '';
    const socket = connect(port, '127.0.0.1', () => socket.write('hi'));
    socket.on('data', (d) => { got += d.toString(); }).on('close', () => resolve(got)).on('error', () => undefined);
  });

  it('pipes each connection to the endpoint ready when it arrives, and closes it when there is none', async () => {
    const upstreamPort = await listen(echo('from the leader'), '127.1.2.3');
    // A port nothing listens on, for the node port.
    const free = await listen(createServer(), '127.0.0.1');
    await closers.pop()!();
    let pods: RunningPod[] = [];
    const proxy = new NodePortProxy(() => pods, () => undefined);
    closers.push(() => proxy.close());
    const svc = service({ app: 'op' }, [{ port: 80, targetPort: upstreamPort, nodePort: free }]);
    await proxy.sync([svc]);

    expect(await ask(free)).toBe('');
    pods = [running(pod('leader', { app: 'op' }), '127.1.2.3')];
    expect(await ask(free)).toBe('from the leader');
    await proxy.sync([]);
    await expect(new Promise((resolve, reject) => connect(free, '127.0.0.1').on('connect', resolve).on('error', reject))).rejects.toThrow(/ECONNREFUSED/);
  });
});
