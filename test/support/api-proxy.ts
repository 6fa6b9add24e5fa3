import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeConfig } from './cluster.ts';

type Pair = { client: Socket; upstream: Socket; frozen: boolean };

/**
 * A TCP proxy in front of the real API server, so a test can break a client's connections
 * the way a network does: `reset()` drops every open connection at once, `freeze()` keeps
 * them open but silently stops forwarding (a half-dead watch), `partition()` also refuses
 * new ones, `silence()` accepts new ones but forwards nothing on them either; `heal()`
 * lets new connections through again. A frozen connection stays frozen: its bytes are
 * lost for good, as on a path whose middlebox dropped its state.
 */
export class ApiProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private partitioned = false;
  private silent = false;
  connections = 0;

  /** Starts listening; the kubeconfig returned is the suite's, pointed at the proxy. */
  async start(target: URL): Promise<KubeConfig> {
    this.server = createServer((client) => {
      this.connections++;
      if (this.partitioned) return void client.destroy();
      const upstream = connect(Number(target.port || 443), target.hostname);
      const pair = { client, upstream, frozen: this.silent };
      this.pairs.add(pair);
      const forward = (from: Socket, to: Socket) => from.on('data', (chunk) => { if (!pair.frozen) to.write(chunk); });
      forward(client, upstream);
      forward(upstream, client);
      const close = () => { client.destroy(); upstream.destroy(); this.pairs.delete(pair); };
      client.on('close', close); upstream.on('close', close);
      client.on('error', close); upstream.on('error', close);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as { port: number }).port;
    const kc = new KubeConfig();
    kc.loadFromString(kubeConfig().exportConfig());
    const cluster = kc.getCurrentCluster()!;
    // Keep the TLS name of the real server so its certificate still verifies through the proxy.
    const clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: `${target.protocol}//127.0.0.1:${port}`, ...(isIP(target.hostname) ? {} : { tlsServerName: target.hostname }) } : c));
    kc.loadFromOptions({ clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
    return kc;
  }

  reset(): void {
    for (const p of this.pairs) { p.client.destroy(); p.upstream.destroy(); }
    this.pairs.clear();
  }

  freeze(): void {
    for (const p of this.pairs) p.frozen = true;
  }

  /** A network partition: open connections go silent and new ones are refused. */
  partition(): void {
    this.partitioned = true;
    this.freeze();
  }

  /** A path that drops every packet: open connections go silent, and so does every new one. */
  silence(): void {
    this.silent = true;
    this.freeze();
  }

  /** New connections get through again; those frozen stay so. */
  heal(): void {
    this.partitioned = false;
    this.silent = false;
  }

  async stop(): Promise<void> {
    this.reset();
    await new Promise((r) => this.server?.close(r));
  }
}
