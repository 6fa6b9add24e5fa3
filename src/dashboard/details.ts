import { startupNamespace, type Startup } from '../api/index.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import type { Clock } from '../lib/clock.ts';
import { exportTree } from '../pipeline/code.ts';
import { CONTEXT_CONFIGMAP, OUTPUT_LABEL, OUTPUT_MARKDOWN_KEY } from '../pipeline/names.ts';
import { ownedBy, planDocuments, outputView } from '../pipeline/outputs.ts';
import { MANIFEST_NAME, readManifest, unpackConfigMaps, type ConfigMap } from '../templates/configmaps.ts';

/** Characters of an output or context entry a page previews; the full text is in the export. */
export const PREVIEW_CHARS = 2000;

export type EventView = { type: string; reason: string; note: string; object: string; count: number; lastAt: string };
export type ObjectView = { kind: string; name: string; summary: string; createdAt: string };
export type OutputPreview = { task: string; provider: string; model: string; quality: number | null; finishedAt: string; preview: string; truncated: boolean };
export type FileView = { path: string; bytes: number; origin: 'scaffold' | 'generated' | 'plan' };

export type StartupDetailsView = {
  events: EventView[];
  objects: ObjectView[];
  outputs: OutputPreview[];
  context: { key: string; preview: string; truncated: boolean }[];
  files: FileView[];
  /** What could not be read, e.g. the scaffold not rendered yet; the rest is still shown. */
  problems: string[];
};

/** The kinds of a startup's namespace the page lists. Secrets are not among them: the dashboard never shows one, not even by name. */
const NAMESPACE_KINDS = [
  ['v1', 'ResourceQuota'], ['v1', 'LimitRange'], ['networking.k8s.io/v1', 'NetworkPolicy'], ['v1', 'Service'],
  ['v1', 'PersistentVolumeClaim'], ['batch/v1', 'Job'], ['v1', 'Pod'], ['v1', 'ConfigMap'],
] as const;

export type DetailsOptions = {
  client: KubeClient;
  clock: Clock;
  /** A startup's details read within this long are served again (default 2 s), one read for every viewer of the page. */
  ttlMs?: number;
};

/**
 * What a Startup's page shows beyond its status: Events, the objects of its namespace,
 * output previews, the shared context and the file tree `startup-factory export` would
 * write. The informers hold none of it (outputs are cached as metadata only), so it is read
 * when a page asks, at most once per `ttlMs` per startup however many pages ask.
 */
export class StartupDetails {
  readonly #o: DetailsOptions;
  readonly #recent = new Map<string, { uid: string; at: number; value: Promise<StartupDetailsView> }>();

  constructor(options: DetailsOptions) {
    this.#o = options;
  }

  get(startup: Startup): Promise<StartupDetailsView> {
    const name = startup.metadata.name;
    const uid = startup.metadata.uid ?? '';
    const now = this.#o.clock.now();
    for (const [key, entry] of this.#recent) if (now - entry.at > (this.#o.ttlMs ?? 2_000)) this.#recent.delete(key);
    const recent = this.#recent.get(name);
    if (recent && recent.uid === uid) return recent.value;
    const value = this.#read(startup);
    this.#recent.set(name, { uid, at: now, value });
    value.catch(() => this.#recent.delete(name));
    return value;
  }

  async #read(startup: Startup): Promise<StartupDetailsView> {
    const namespace = startupNamespace(startup.metadata.name);
    const { client } = this.#o;
    const problems: string[] = [];
    const listed = await Promise.all(NAMESPACE_KINDS.map(async ([apiVersion, kind]) => {
      try {
        return (await client.list<KubeObject & Record<string, unknown>>(apiVersion, kind, { namespace })).items;
      } catch (err) {
        problems.push(`listing ${kind}s in ${namespace}: ${(err as Error).message.split('\n')[0]}`);
        return [];
      }
    }));
    const events = await this.#events(startup, namespace, problems);
    const objects = listed.flat().map(objectView).sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
    const configMaps = (listed[NAMESPACE_KINDS.length - 1] ?? []) as (KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> })[];
    const uid = startup.metadata.uid;
    const outputs = configMaps
      .filter((cm) => cm.metadata.labels?.[OUTPUT_LABEL] === 'true')
      .filter(ownedBy(uid))
      .flatMap((cm): OutputPreview[] => {
        const view = outputView(cm);
        if (!view) return [];
        const markdown = cm.data?.[OUTPUT_MARKDOWN_KEY] ?? '';
        return [{
          task: view.name, provider: view.provider ?? '', model: view.model ?? '', quality: view.quality ?? null,
          finishedAt: view.finishedAt ?? '', ...preview(markdown),
        }];
      })
      .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt) || a.task.localeCompare(b.task));
    const contextMap = configMaps.find((cm) => cm.metadata.name === CONTEXT_CONFIGMAP);
    const context = Object.entries(contextMap?.data ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => ({ key, ...preview(value) }));
    return { events, objects, outputs, context, files: files(configMaps, uid, problems), problems };
  }

  async #events(startup: Startup, namespace: string, problems: string[]): Promise<EventView[]> {
    const { client } = this.#o;
    // The Startup is cluster-scoped, so its own Events are in `default`; its children's are in its namespace.
    const reads = [
      client.list<KubeObject & Record<string, unknown>>('events.k8s.io/v1', 'Event', {
        namespace: 'default', fieldSelector: `regarding.kind=Startup,regarding.name=${startup.metadata.name}`,
      }),
      client.list<KubeObject & Record<string, unknown>>('events.k8s.io/v1', 'Event', { namespace }),
    ];
    const lists = await Promise.all(reads.map((r) => r.then((l) => l.items, (err: unknown) => {
      problems.push(`listing Events: ${(err as Error).message.split('\n')[0]}`);
      return [];
    })));
    return lists.flat().map(eventView).sort((a, b) => b.lastAt.localeCompare(a.lastAt)).slice(0, 100);
  }
}

function preview(text: string): { preview: string; truncated: boolean } {
  return text.length > PREVIEW_CHARS ? { preview: text.slice(0, PREVIEW_CHARS), truncated: true } : { preview: text, truncated: false };
}

type AnyObject = KubeObject & Record<string, any>;

function eventView(e: AnyObject): EventView {
  const regarding = (e.regarding ?? {}) as { kind?: string; name?: string };
  return {
    type: String(e.type ?? ''), reason: String(e.reason ?? ''), note: String(e.note ?? ''),
    object: `${regarding.kind ?? ''}/${regarding.name ?? ''}`,
    count: Number(e.series?.count ?? e.deprecatedCount ?? 1),
    lastAt: String(e.series?.lastObservedTime ?? e.eventTime ?? e.deprecatedLastTimestamp ?? e.metadata.creationTimestamp ?? ''),
  };
}

/** One line on what an object is doing, as `kubectl get` would put it. */
function objectView(o: AnyObject): ObjectView {
  const status = (o.status ?? {}) as Record<string, any>;
  const spec = (o.spec ?? {}) as Record<string, any>;
  let summary = '';
  switch (o.kind) {
    case 'Job': summary = `${status.succeeded ?? 0} succeeded, ${status.failed ?? 0} failed, ${status.active ?? 0} active${spec.suspend ? ', suspended' : ''}`; break;
    case 'Pod': summary = String(status.phase ?? ''); break;
    case 'Service': summary = `${spec.type ?? 'ClusterIP'} ${(spec.ports ?? []).map((p: { port?: number; nodePort?: number }) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}`).join(',')}`; break;
    case 'ResourceQuota': summary = Object.entries(spec.hard ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(' '); break;
    case 'PersistentVolumeClaim': summary = String(status.phase ?? ''); break;
    case 'ConfigMap': summary = `${Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length} keys`; break;
    default: summary = '';
  }
  return { kind: o.kind, name: o.metadata.name ?? '', summary, createdAt: String(o.metadata.creationTimestamp ?? '') };
}

/** The tree `startup-factory export` writes, paths and sizes only; empty until the scaffold is rendered. */
function files(configMaps: readonly (KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> })[], uid: string | undefined, problems: string[]): FileView[] {
  const byName = new Map(configMaps.map((cm) => [cm.metadata.name ?? '', cm]));
  const manifest = byName.get(MANIFEST_NAME);
  if (!manifest) return [];
  try {
    const asConfigMap = (cm: (typeof configMaps)[number]): ConfigMap => ({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cm.metadata.name ?? '' },
      ...(cm.data ? { data: cm.data } : {}), ...(cm.binaryData ? { binaryData: cm.binaryData } : {}),
    });
    const chunks = readManifest(manifest).configMaps.map((name) => {
      const chunk = byName.get(name);
      if (!chunk) throw new Error(`ConfigMap ${name} is missing: the scaffold is incomplete`);
      return asConfigMap(chunk);
    });
    const { tree, code, plan } = exportTree(unpackConfigMaps([asConfigMap(manifest), ...chunks]), planDocuments(configMaps, uid));
    const generated = new Set(code.items.flatMap((i) => i.files.filter((f) => f.outcome === 'added' || f.outcome === 'replaced').map((f) => f.path)));
    return [...tree].map(([path, content]): FileView => ({
      path, bytes: content.length, origin: plan.has(path) ? 'plan' : generated.has(path) ? 'generated' : 'scaffold',
    })).sort((a, b) => a.path.localeCompare(b.path));
  } catch (err) {
    problems.push(`the project's file tree: ${(err as Error).message.split('\n')[0]}`);
    return [];
  }
}
