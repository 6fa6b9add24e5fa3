import { connect, createServer, type Server, type Socket } from 'node:net';
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { NODE_IP } from './network.ts';

export type Endpoint = { ip: string; port: number };

/** A pod as the runner runs it: its latest object, its own address, and whether it is ready. */
export type RunningPod = { pod: V1Pod; ip: string; ready: boolean };

/**
 * Where a Service's port leads among the pods: the ready, not terminating ones of its
 * namespace that its selector picks, at the target port (a name is looked up among each
 * pod's container ports). What the EndpointSlice controller would list, which it cannot
 * here: EndpointSlices refuse loopback addresses. A Service without a selector leads nowhere.
 */
export function serviceEndpoints(service: V1Service, port: V1ServicePort, pods: Iterable<RunningPod>): Endpoint[] {
  const selector = Object.entries(service.spec?.selector ?? {});
  if (selector.length === 0) return [];
  const endpoints: Endpoint[] = [];
  for (const { pod, ip, ready } of pods) {
    if (!ready || pod.metadata?.deletionTimestamp || pod.metadata?.namespace !== service.metadata?.namespace) continue;
    if (!selector.every(([key, value]) => pod.metadata?.labels?.[key] === value)) continue;
    const target = port.targetPort ?? port.port;
    const number = typeof target === 'number'
      ? target
      : pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target && (p.protocol ?? 'TCP') === 'TCP')?.containerPort;
    if (number !== undefined) endpoints.push({ ip, port: number });
  }
  return endpoints;
}

/** The TCP node ports the Services ask for, each with its Service and port. */
export function nodePorts(services: Iterable<V1Service>): Map<number, { service: V1Service; port: V1ServicePort }> {
  const wanted = new Map<number, { service: V1Service; port: V1ServicePort }>();
  for (const service of services) {
    for (const port of service.spec?.ports ?? []) {
      if (port.nodePort && (port.protocol ?? 'TCP') === 'TCP') wanted.set(port.nodePort, { service, port });
    }
  }
  return wanted;
}

type Listener = { server: Server; target: { service: V1Service; port: V1ServicePort }; next: number };

/**
 * kube-proxy's part for node ports, in userspace: each TCP node port listens on the node's
 * address, and each connection is piped to one of its Service's ready endpoints in turn,
 * looked up when it arrives (so a label that moves, as the gateway's leader label does,
 * moves new connections with it). With no endpoint the connection is closed at once, as
 * kube-proxy rejects it; one whose endpoint goes away is closed with it.
 */
export class NodePortProxy {
  readonly #listeners = new Map<number, Listener>();
  readonly #pods: () => Iterable<RunningPod>;
  readonly #log: (message: string) => void;

  constructor(pods: () => Iterable<RunningPod>, log: (message: string) => void) {
    this.#pods = pods;
    this.#log = log;
  }

  /** Listens on the node ports these Services ask for, and on no other; resolves once each is bound, or failed to. */
  async sync(services: Iterable<V1Service>): Promise<void> {
    const wanted = nodePorts(services);
    const settled: Promise<unknown>[] = [];
    for (const [nodePort, listener] of this.#listeners) {
      if (!wanted.has(nodePort)) {
        this.#listeners.delete(nodePort);
        settled.push(new Promise((resolve) => listener.server.close(resolve)));
      }
    }
    for (const [nodePort, target] of wanted) {
      const existing = this.#listeners.get(nodePort);
      if (existing) {
        existing.target = target;
        continue;
      }
      const listener: Listener = { server: createServer((socket) => this.#forward(listener, socket)), target, next: 0 };
      this.#listeners.set(nodePort, listener);
      settled.push(new Promise<void>((resolve) => {
        listener.server.once('listening', resolve).once('error', (err: Error) => {
          // Taken by something else on this machine: tried again at the next sync.
          this.#log(`node port ${nodePort} of service ${target.service.metadata?.namespace}/${target.service.metadata?.name}: ${err.message}`);
          if (this.#listeners.get(nodePort) === listener) this.#listeners.delete(nodePort);
          resolve();
        });
        listener.server.listen(nodePort, NODE_IP);
      }));
    }
    await Promise.all(settled);
  }

  async close(): Promise<void> {
    const servers = [...this.#listeners.values()].map((l) => l.server);
    this.#listeners.clear();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }

  #forward(listener: Listener, socket: Socket): void {
    const endpoints = serviceEndpoints(listener.target.service, listener.target.port, this.#pods());
    const endpoint = endpoints[listener.next++ % Math.max(endpoints.length, 1)];
    if (!endpoint) {
      socket.destroy();
      return;
    }
    const upstream = connect(endpoint.port, endpoint.ip);
    const close = () => { socket.destroy(); upstream.destroy(); };
    socket.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    socket.pipe(upstream).pipe(socket);
  }
}
