import type { ServerResponse } from 'node:http';
import type { AIProvider, Startup, StartupTemplate } from '../api/index.ts';
import type { KubeObject } from '../kube/client.ts';
import type { Clock } from '../lib/clock.ts';
import type { Informer } from '../runtime/informer.ts';
import { providerView, startupView } from './view.ts';

/** What the feed needs of an informer: its cache and its change notifications. */
type Source<T extends KubeObject> = Pick<Informer<T>, 'addHandlers' | 'get' | 'list'>;

export type FeedSources = {
  startups: Source<Startup>;
  templates: Source<StartupTemplate>;
  providers: Source<AIProvider>;
};

export type FeedOptions = FeedSources & {
  clock: Clock;
  /** Changes within this window go out as one message per object (default 150 ms). */
  coalesceMs?: number;
  /** A comment line this often keeps proxies from closing an idle stream (default 15 s). */
  heartbeatMs?: number;
  /** A viewer this far behind is dropped; its EventSource reconnects to a fresh snapshot (default 4 MiB). */
  maxBufferedBytes?: number;
};

type Kind = 'startup' | 'provider';

/**
 * The dashboard's live view, fed by the informers the controllers already run: a change is
 * projected once and the same bytes go to every open page, so a hundred viewers cost the
 * API server nothing and the operator one serialization per change. A periodic resync
 * re-projects everything (the usage windows depend on the time) but sends only what
 * differs from what viewers already have.
 */
export class DashboardFeed {
  readonly #o: FeedOptions;
  /** The JSON each viewer has of every object, by kind and name. */
  readonly #sent: Record<Kind, Map<string, string>> = { startup: new Map(), provider: new Map() };
  readonly #dirty: Record<Kind, Set<string>> = { startup: new Set(), provider: new Set() };
  readonly #viewers = new Set<ServerResponse>();
  #flushTimer: unknown;
  #heartbeat: unknown;
  #running = false;

  constructor(options: FeedOptions) {
    this.#o = options;
    const mark = (kind: Kind) => ({
      add: (o: { metadata: { name: string } }) => this.#mark(kind, o.metadata.name),
      update: (o: { metadata: { name: string } }) => this.#mark(kind, o.metadata.name),
      delete: (o: { metadata: { name: string } }) => this.#mark(kind, o.metadata.name),
    });
    options.startups.addHandlers(mark('startup'));
    options.providers.addHandlers(mark('provider'));
    // A template's pipeline shapes its startups' DAGs; templates change rarely.
    options.templates.addHandlers({
      add: () => this.#markAll(), update: (o, old) => { if (o !== old) this.#markAll(); }, delete: () => this.#markAll(),
    });
  }

  start(): void {
    this.#running = true;
    this.#markAll();
    const beat = () => {
      this.#broadcast(': heartbeat\n\n');
      this.#heartbeat = this.#o.clock.setTimeout(beat, this.#o.heartbeatMs ?? 15_000);
    };
    this.#heartbeat = this.#o.clock.setTimeout(beat, this.#o.heartbeatMs ?? 15_000);
  }

  stop(): void {
    this.#running = false;
    this.#o.clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#o.clock.clearTimeout(this.#heartbeat);
    for (const viewer of this.#viewers) viewer.end();
    this.#viewers.clear();
  }

  /** Every object as viewers have it now: the same JSON the stream sends. */
  snapshot(): { startups: string[]; providers: string[] } {
    this.#flush();
    return { startups: [...this.#sent.startup.values()], providers: [...this.#sent.provider.values()] };
  }

  /** `{"items":[...]}` of one kind, from the very JSON the stream sends: the API and the stream never disagree. */
  items(kind: 'startups' | 'providers'): string {
    return `{"items":[${this.snapshot()[kind].join(',')}]}`;
  }

  /** One Startup's view as the stream sent it. */
  startup(name: string): string | undefined {
    this.#flush();
    return this.#sent.startup.get(name);
  }

  /** Takes over `res` as an event stream: the snapshot first, then every change. */
  subscribe(res: ServerResponse): void {
    const { startups, providers } = this.snapshot();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.write(`retry: 2000\nevent: snapshot\ndata: {"at":${JSON.stringify(new Date(this.#o.clock.now()).toISOString())},"startups":[${startups.join(',')}],"providers":[${providers.join(',')}]}\n\n`);
    this.#viewers.add(res);
    res.on('close', () => this.#viewers.delete(res));
  }

  viewers(): number {
    return this.#viewers.size;
  }

  #mark(kind: Kind, name: string): void {
    this.#dirty[kind].add(name);
    if (this.#flushTimer === undefined && this.#running) {
      this.#flushTimer = this.#o.clock.setTimeout(() => { this.#flushTimer = undefined; this.#flush(); }, this.#o.coalesceMs ?? 150);
    }
  }

  #markAll(): void {
    for (const s of this.#o.startups.list()) this.#mark('startup', s.metadata.name);
    for (const p of this.#o.providers.list()) this.#mark('provider', p.metadata.name);
    // Objects gone while nobody was told (a relist) are dropped too.
    for (const kind of ['startup', 'provider'] as const) for (const name of this.#sent[kind].keys()) this.#mark(kind, name);
  }

  #flush(): void {
    const now = new Date(this.#o.clock.now());
    const out: string[] = [];
    for (const kind of ['startup', 'provider'] as const) {
      const dirty = this.#dirty[kind];
      for (const name of dirty) {
        const json = this.#project(kind, name, now);
        const sent = this.#sent[kind];
        if (json === undefined) {
          if (sent.delete(name)) out.push(`event: ${kind}-deleted\ndata: ${JSON.stringify({ name })}\n\n`);
        } else if (sent.get(name) !== json) {
          sent.set(name, json);
          out.push(`event: ${kind}\ndata: ${json}\n\n`);
        }
      }
      dirty.clear();
    }
    if (out.length > 0) this.#broadcast(out.join(''));
  }

  #project(kind: Kind, name: string, now: Date): string | undefined {
    if (kind === 'provider') {
      const provider = this.#o.providers.get(name);
      return provider && JSON.stringify(providerView(provider));
    }
    const startup = this.#o.startups.get(name);
    if (!startup) return undefined;
    const template = this.#o.templates.get(String((startup.spec as { template?: unknown } | undefined)?.template ?? ''));
    return JSON.stringify(startupView(startup, template, now));
  }

  #broadcast(chunk: string): void {
    const limit = this.#o.maxBufferedBytes ?? 4 * 1024 * 1024;
    for (const viewer of this.#viewers) {
      if (viewer.writableLength > limit) {
        viewer.destroy();
        this.#viewers.delete(viewer);
        continue;
      }
      viewer.write(chunk);
    }
  }
}
