import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A readiness check: `ok` false makes /readyz answer 503 with `detail`. */
export interface ReadinessCheck {
  name: string;
  check(): { ok: boolean; detail?: string };
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpServerOptions {
  registry: Registry;
  host?: string;
  port: number;
}

/**
 * The operator's one HTTP server: `/healthz` (the process answers), `/readyz` (every
 * readiness check passes: informers synced and watching), `/metrics`. Others mount their
 * routes under a prefix (the dashboard) with `mount`.
 */
export class HttpServer {
  private readonly o: HttpServerOptions;
  private readonly checks: ReadinessCheck[] = [];
  private readonly mounts: { prefix: string; handler: RouteHandler }[] = [];
  private server: Server | undefined;

  constructor(options: HttpServerOptions) {
    this.o = options;
  }

  addReadinessCheck(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /** Routes requests whose path starts with `prefix` to `handler` (longest prefix wins). */
  mount(prefix: string, handler: RouteHandler): void {
    this.mounts.push({ prefix, handler });
    this.mounts.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  readiness(): { ok: boolean; failing: string[] } {
    const failing: string[] = [];
    for (const c of this.checks) {
      const r = c.check();
      if (!r.ok) failing.push(r.detail ? `${c.name}: ${r.detail}` : c.name);
    }
    return { ok: failing.length === 0, failing };
  }

  async listen(): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host ?? '0.0.0.0', () => { server.off('error', reject); resolve(); });
    });
    return server.address() as AddressInfo;
  }

  /** Where the server listens (port 0 picks a free one), once listening. */
  address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz' || path === '/livez') return text(res, 200, 'ok\n');
    if (path === '/readyz') {
      const r = this.readiness();
      return text(res, r.ok ? 200 : 503, r.ok ? 'ok\n' : `not ready:\n${r.failing.map((f) => `- ${f}`).join('\n')}\n`);
    }
    if (path === '/metrics') {
      const body = await this.o.registry.metrics();
      res.writeHead(200, { 'content-type': this.o.registry.contentType });
      res.end(body);
      return;
    }
    const mount = this.mounts.find((m) => path === m.prefix || path.startsWith(m.prefix.endsWith('/') ? m.prefix : `${m.prefix}/`) || m.prefix === '/');
    if (mount) return mount.handler(req, res);
    text(res, 404, 'not found\n');
  }
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}
