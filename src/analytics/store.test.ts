import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test/support/manual-clock.ts';
import type { Startup } from '../api/index.ts';
import type { KubeClient } from '../kube/client.ts';
import { ApiError } from '../kube/errors.ts';
import { createLogger } from '../observability/logger.ts';
import { SETTLE_MS, buildReport, emptyAnalytics, observeStartup, parseAnalytics, serializeAnalytics } from './model.ts';
import { ANALYTICS_KEY, AnalyticsRecorder, type AnalyticsConfigMap } from './store.ts';

const T0 = Date.parse('2026-03-10T12:00:00Z');

function finished(uid: string, completedAt: number): Startup {
  return {
    apiVersion: 'startupfactory.dev/v1alpha1', kind: 'Startup', metadata: { name: uid, uid },
    spec: { displayName: uid, template: 'reactnext', industry: 'fintech' } as Startup['spec'],
    status: { phase: 'Succeeded', startedAt: new Date(completedAt - 60_000).toISOString(), completedAt: new Date(completedAt).toISOString() },
  };
}

/** An API server holding one ConfigMap, with resourceVersion checks; `behind` writes as another replica would. */
class FakeApi {
  stored: AnalyticsConfigMap | undefined;
  writes = 0;
  /** When each write happened. */
  readonly times: number[] = [];
  reads = 0;
  #version = 0;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  readonly client = {
    create: async (body: AnalyticsConfigMap) => {
      if (this.stored) throw new ApiError(409, 'exists', 'AlreadyExists');
      return this.#store(body);
    },
    replace: async (body: AnalyticsConfigMap) => {
      if (!this.stored) throw new ApiError(404, 'not found', 'NotFound');
      if (body.metadata.resourceVersion !== this.stored.metadata.resourceVersion) throw new ApiError(409, 'conflict', 'Conflict');
      return this.#store(body);
    },
    getOptional: async () => {
      this.reads++;
      return this.stored;
    },
  } as unknown as KubeClient;

  #store(body: AnalyticsConfigMap): AnalyticsConfigMap {
    this.writes++;
    this.times.push(this.#now());
    this.stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.#version) } };
    return this.stored;
  }

  behind(data: string): void {
    this.stored = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', resourceVersion: String(++this.#version) }, data: { [ANALYTICS_KEY]: data } };
  }

  count(): number {
    const state = parseAnalytics(this.stored?.data?.[ANALYTICS_KEY]);
    return buildReport(state, { by: 'industry', granularity: 'day', since: new Date(T0 - 86_400_000), until: new Date(T0 + 86_400_000) }).groups[0]?.count ?? 0;
  }
}

/** Lets the recorder's promises (its writes to the fake API) run. */
const drain = async () => { for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); };

function setup(startups: Startup[]) {
  const clock = new ManualClock(T0);
  const api = new FakeApi(() => clock.now());
  const recorder = new AnalyticsRecorder({
    client: api.client, namespace: 'sf', startups: () => startups, cached: () => api.stored, clock, logger: createLogger({ level: 'silent' }),
  });
  const step = async (ms: number) => { clock.advance(ms); await drain(); };
  return { api, clock, recorder, step };
}

describe('AnalyticsRecorder', () => {
  it('counts what is in the informer when it starts leading, creating the ConfigMap, and writes nothing when nothing changed', async () => {
    const { api, recorder, step } = setup([finished('a', T0 - 60_000)]);
    recorder.start();
    await step(0);
    expect(api.writes).toBe(1);
    expect(api.count()).toBe(1);
    // A resync hands every Startup again: a pass, no write.
    recorder.changed();
    await step(5_000);
    expect(api.writes).toBe(1);
    await recorder.stop(1_000);
  });

  it('writes at most once per 2 s however many changes come, and counts a completion when its SETTLE_MS ends with no further event', async () => {
    const startups: Startup[] = [];
    const { api, clock, recorder, step } = setup(startups);
    recorder.start();
    await step(0);
    expect(api.writes).toBe(0);
    for (let i = 0; i < 50; i++) {
      startups.push(finished(`s${i}`, T0 - 60_000));
      recorder.changed();
      await step(100);
    }
    await step(2_000);
    // Fifty changes over 5 s: a write when the first change has waited 2 s, then one every 2 s at most.
    expect(api.times.map((t) => t - T0)).toEqual([2_000, 4_000, 6_000]);
    expect(api.count()).toBe(50);

    // Finished just now: not counted before its SETTLE_MS is over, then counted with no event to say so.
    startups.push(finished('late', clock.now()));
    recorder.changed();
    await step(2_000);
    expect(api.writes).toBe(3);
    await step(SETTLE_MS);
    expect(api.writes).toBe(4);
    expect(api.count()).toBe(51);
    await recorder.stop(1_000);
  });

  it('on a conflict, reads what the other writer left and counts on top of it, never twice', async () => {
    const a = finished('a', T0 - 60_000);
    const b = finished('b', T0 - 60_000);
    const startups = [a];
    const { api, recorder, step } = setup(startups);
    recorder.start();
    await step(0);
    expect(api.count()).toBe(1);
    // Another replica (a leader before a failover) counted a and c, since deleted, behind this one's back.
    const c = finished('c', T0 - 30_000);
    api.behind(serializeAnalytics(observeStartup(observeStartup(emptyAnalytics(), a, new Date(T0)), c, new Date(T0))));
    startups.push(b);
    recorder.changed();
    await step(2_000);
    expect(api.reads).toBe(1);
    // a and c as the other writer left them, b on top: not 2 (its write lost), not 4 (a again).
    expect(api.count()).toBe(3);
    expect(Object.keys(parseAnalytics(api.stored?.data?.[ANALYTICS_KEY]).recorded).sort()).toEqual(['a', 'b']);
    await recorder.stop(1_000);
  });

  it('makes the pass a change waits for when it stops, and none after', async () => {
    const startups: Startup[] = [];
    const { api, recorder, step } = setup(startups);
    recorder.start();
    await step(0);
    startups.push(finished('a', T0 - 60_000));
    recorder.changed();
    await recorder.stop(1_000);
    expect(api.count()).toBe(1);
    startups.push(finished('b', T0 - 60_000));
    recorder.changed();
    await step(10_000);
    expect(api.count()).toBe(1);
  });
});
