import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { getCondition } from '../api/conditions.ts';
import type { Startup } from '../api/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Runnable } from '../runtime/manager.ts';
import { SESSION_COOKIE, credentialsOf, type Access, type Authorizer } from './auth.ts';
import type { StartupDetails } from './details.ts';
import type { DashboardFeed } from './feed.ts';
import { conditionView } from './view.ts';
import type { AnalyticsView } from '../analytics/store.ts';
import { API_INDEX, parseAnalyticsQuery } from './api.ts';

export type DashboardServerOptions = {
  host: string;
  port: number;
  feed: DashboardFeed;
  details: StartupDetails;
  startup(name: string): Startup | undefined;
  analytics: AnalyticsView;
  authorizer: Authorizer;
  /** `none` (loopback, local use) or `token`: shown on the page, so a viewer knows what guards it. */
  authMode: 'token' | 'none';
  logger: Logger;
  clock: { now(): number };
};

type Asset = { body: Buffer; type: string; etag: string };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
};

/**
 * Everything the page may load comes from here, and nothing it renders can run: with this
 * policy, even a string that slipped into the DOM as markup would execute no script.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** The bundled page: plain modules, no build step, no CDN (clusters are often offline). */
function loadAssets(): Map<string, Asset> {
  const dir = new URL('./assets/', import.meta.url);
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const body = readFileSync(new URL(name, dir));
    const ext = name.slice(name.lastIndexOf('.'));
    assets.set(name, { body, type: TYPES[ext] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}

/**
 * The dashboard: the page, its JSON API under /api/ and the live stream, on a port of its
 * own. Read-only: nothing here changes the cluster, and the only POSTs are the login and
 * logout that set or clear the session cookie holding the viewer's own token.
 */
export class DashboardServer implements Runnable {
  readonly name = 'dashboard';
  readonly #o: DashboardServerOptions;
  readonly #assets = loadAssets();
  #server: Server | undefined;

  constructor(options: DashboardServerOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#o.logger.error({ err, path: req.url }, 'dashboard request failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
        else res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port, this.#o.host, () => { server.off('error', reject); resolve(); });
    });
    this.#server = server;
    this.#o.feed.start();
    this.#o.logger.info({ url: this.url(), auth: this.#o.authMode }, 'dashboard listening');
  }

  async stop(): Promise<void> {
    this.#o.feed.stop();
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Pages with the live stream open. */
  viewers(): number {
    return this.#o.feed.viewers();
  }

  address(): AddressInfo | undefined {
    return (this.#server?.address() as AddressInfo | null) ?? undefined;
  }

  url(): string {
    const a = this.address();
    if (!a) return '';
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${a.port}/`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path === '/login' && method === 'POST') return this.#login(req, res);
    if (path === '/logout' && method === 'POST') {
      if (!sameOrigin(req)) return json(res, 403, { error: 'cross-origin request refused' });
      res.writeHead(303, { location: '/', 'set-cookie': `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
      return void res.end();
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(res, 405, { error: 'the dashboard is read-only' });
    }
    // The page itself holds no data; everything it shows comes from /api/, behind the check.
    if (path === '/' || path === '/index.html') return this.#asset(req, res, 'index.html');
    if (path.startsWith('/assets/')) return this.#asset(req, res, path.slice('/assets/'.length));
    if (path !== '/api' && !path.startsWith('/api/')) return json(res, 404, { error: 'not found' });

    const access = await this.#access(credentialsOf(req.headers));
    if (access.kind !== 'allowed') {
      const status = access.kind === 'unauthenticated' ? 401 : 403;
      if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="startup-factory"');
      return json(res, status, { error: access.reason });
    }
    return this.#api(res, url, access.user);
  }

  async #access(token: string | undefined): Promise<Access> {
    try {
      return await this.#o.authorizer.authorize(token);
    } catch (err) {
      // The API server could not be asked: say so, but never let the viewer in on that.
      this.#o.logger.warn({ err }, 'dashboard could not review a token');
      return { kind: 'forbidden', user: '', reason: 'the API server could not review the token; try again' };
    }
  }

  #api(res: ServerResponse, url: URL, user: string): void | Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/api';
    const { feed } = this.#o;
    if (path === '/api') return json(res, 200, API_INDEX);
    if (path === '/api/session') return json(res, 200, { user, auth: this.#o.authMode, at: new Date(this.#o.clock.now()).toISOString() });
    if (path === '/api/stream') return feed.subscribe(res);
    if (path === '/api/startups') return rawJson(res, 200, feed.items('startups'));
    if (path === '/api/providers') return rawJson(res, 200, feed.items('providers'));
    if (path === '/api/analytics') {
      const query = parseAnalyticsQuery(url.searchParams, new Date(this.#o.clock.now()));
      if (!query.ok) return json(res, 400, { error: query.error });
      return json(res, 200, this.#o.analytics.report(query.query));
    }
    const match = /^\/api\/startups\/([^/]+)$/.exec(path);
    if (match) return this.#startup(res, decodeURIComponent(match[1]!));
    return json(res, 404, { error: 'no such endpoint (GET /api/ lists them)' });
  }

  async #startup(res: ServerResponse, name: string): Promise<void> {
    const startup = this.#o.startup(name);
    if (!startup) return json(res, 404, { error: `no Startup ${name}` });
    const view = this.#o.feed.startup(name);
    const conditions = (startup.status?.conditions ?? []).map(conditionView);
    const details = await this.#o.details.get(startup);
    const pipeline = getCondition(startup.status?.conditions, 'PipelineSucceeded');
    json(res, 200, { startup: view === undefined ? null : JSON.parse(view) as unknown, conditions, pipeline: pipeline ? conditionView(pipeline) : null, ...details });
  }

  async #login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req)) return json(res, 403, { error: 'cross-origin request refused' });
    const body = await readBody(req, 16 * 1024);
    if (body === undefined) return json(res, 413, { error: 'the token is too long' });
    const token = new URLSearchParams(body).get('token')?.trim() ?? '';
    const access = await this.#access(token || undefined);
    if (access.kind !== 'allowed') {
      res.writeHead(303, { location: `/#/login?error=${encodeURIComponent(access.reason)}` });
      return void res.end();
    }
    const secure = req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
    // HttpOnly: no script on the page can read the token back, only send it here.
    res.writeHead(303, { location: '/', 'set-cookie': `${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800${secure}` });
    res.end();
  }

  #asset(req: IncomingMessage, res: ServerResponse, name: string): void {
    const asset = this.#assets.get(name);
    if (!asset) return json(res, 404, { error: 'not found' });
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, { etag: asset.etag });
      return void res.end();
    }
    res.writeHead(200, { 'content-type': asset.type, etag: asset.etag, 'cache-control': 'no-cache', 'content-length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  rawJson(res, status, JSON.stringify(body));
}

function rawJson(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A form posted from another site carries its Origin; only our own page may log in or out. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
