import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { AIProvider, Startup, StartupTemplate } from '../api/index.ts';
import type { KubeObject } from '../kube/client.ts';
import type { InformerHandlers } from '../runtime/informer.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { DashboardFeed } from './feed.ts';

/** An informer's cache and handlers, driven by hand. */
class Cache<T extends KubeObject> {
  readonly objects = new Map<string, T>();
  readonly handlers: InformerHandlers<T>[] = [];
  addHandlers(h: InformerHandlers<T>) { this.handlers.push(h); }
  get(name: string) { return this.objects.get(name); }
  list() { return [...this.objects.values()]; }
  set(obj: T) {
    const old = this.objects.get(obj.metadata.name!);
    this.objects.set(obj.metadata.name!, obj);
    for (const h of this.handlers) (old ? h.update?.(obj, old) : h.add?.(obj));
  }
  resync() { for (const o of this.objects.values()) for (const h of this.handlers) h.update?.(o, o); }
  remove(name: string) {
    const old = this.objects.get(name)!;
    this.objects.delete(name);
    for (const h of this.handlers) h.delete?.(old);
  }
}

/** The part of a response the feed writes to. */
class Viewer {
  head: number | undefined;
  chunks: string[] = [];
  writableLength = 0;
  destroyed = false;
  #close: (() => void) | undefined;
  writeHead(status: number) { this.head = status; return this; }
  write(chunk: string) { this.chunks.push(chunk); return true; }
  on(event: string, fn: () => void) { if (event === 'close') this.#close = fn; return this; }
  end() { this.#close?.(); }
  destroy() { this.destroyed = true; this.#close?.(); }
  events() { return this.chunks.join('').split('\n\n').filter((e) => e.startsWith('event:') || e.includes('\nevent:')).map((e) => /event: (\S+)/.exec(e)![1]); }
}

const startup = (name: string, phase: string): Startup => ({
  apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name, uid: name },
  spec: { displayName: name, template: 'tpl' }, status: { phase },
} as unknown as Startup);

function setup() {
  const clock = new ManualClock(Date.parse('2026-12-02T12:00:00Z'));
  const startups = new Cache<Startup>();
  const templates = new Cache<StartupTemplate>();
  const providers = new Cache<AIProvider>();
  const feed = new DashboardFeed({ startups, templates, providers, clock, coalesceMs: 100, heartbeatMs: 15_000 });
  return { clock, startups, templates, providers, feed };
}

describe('DashboardFeed', () => {
  it('opens every stream with a snapshot of what the caches hold', () => {
    const { startups, feed } = setup();
    startups.set(startup('a', 'Running'));
    feed.start();
    const viewer = new Viewer();
    feed.subscribe(viewer as unknown as ServerResponse);
    expect(viewer.head).toBe(200);
    const data = JSON.parse(/event: snapshot\ndata: (.*)\n\n/.exec(viewer.chunks[0]!)![1]!) as { startups: { name: string; phase: string }[] };
    expect(data.startups.map((s) => [s.name, s.phase])).toEqual([['a', 'Running']]);
  });

  it('sends each change once to every viewer, changes within the window as one message per object', () => {
    const { clock, startups, feed } = setup();
    feed.start();
    const viewers = [new Viewer(), new Viewer()];
    for (const v of viewers) feed.subscribe(v as unknown as ServerResponse);
    startups.set(startup('a', 'Queued'));
    startups.set(startup('a', 'Provisioning'));
    startups.set(startup('b', 'Queued'));
    clock.advance(100);
    for (const v of viewers) expect(v.events()).toEqual(['snapshot', 'startup', 'startup']);
    expect(viewers[0]!.chunks[1]).toBe(viewers[1]!.chunks[1]);
    expect(viewers[0]!.chunks[1]).toContain('"phase":"Provisioning"');
  });

  it('sends nothing on a resync that changed nothing, and says when an object is gone', () => {
    const { clock, startups, feed } = setup();
    startups.set(startup('a', 'Running'));
    feed.start();
    const viewer = new Viewer();
    feed.subscribe(viewer as unknown as ServerResponse);
    startups.resync();
    clock.advance(100);
    expect(viewer.events()).toEqual(['snapshot']);
    startups.remove('a');
    clock.advance(100);
    expect(viewer.events()).toEqual(['snapshot', 'startup-deleted']);
    expect(feed.items('startups')).toBe('{"items":[]}');
    expect(feed.startup('a')).toBeUndefined();
  });

  it('drops a viewer too far behind (it reconnects to a fresh snapshot) and stops the others cleanly', () => {
    const { clock, startups, feed } = setup();
    feed.start();
    const slow = new Viewer();
    const fine = new Viewer();
    feed.subscribe(slow as unknown as ServerResponse);
    feed.subscribe(fine as unknown as ServerResponse);
    slow.writableLength = 10 * 1024 * 1024;
    startups.set(startup('a', 'Running'));
    clock.advance(100);
    expect(slow.destroyed).toBe(true);
    expect(fine.events()).toEqual(['snapshot', 'startup']);
    expect(feed.viewers()).toBe(1);
    clock.advance(15_000);
    expect(fine.chunks.at(-1)).toBe(': heartbeat\n\n');
    feed.stop();
    expect(feed.viewers()).toBe(0);
    expect(clock.pending()).toBe(0);
  });
});
