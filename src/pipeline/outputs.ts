import type { KubeObject } from '../kube/client.ts';
import { childMetadata, type StartupRef } from '../provisioning/metadata.ts';
import { startupNamespace } from '../api/index.ts';
import type { ContextEntry } from '../tasks/context.ts';
import { withReviewVerdict } from '../tasks/rubric.ts';
import {
  CONTEXT_CONFIGMAP, OUTPUT_ATTEMPT_ANNOTATION, OUTPUT_FINISHED_ANNOTATION, OUTPUT_JSON_KEY, OUTPUT_LABEL, OUTPUT_MARKDOWN_KEY, OUTPUT_MODEL_ANNOTATION,
  OUTPUT_PROVIDER_ANNOTATION, OUTPUT_QUALITY_ANNOTATION, OUTPUT_REVIEW_VERDICT_ANNOTATION, OUTPUT_RUBRIC_QUALITY_ANNOTATION, OUTPUT_WORK_ITEMS_ANNOTATION,
  TASK_LABEL, outputConfigMapName,
} from './names.ts';
import type { PlanDocument } from './plan.ts';
import type { OutputView } from './state.ts';

/** Past this, the Markdown rendering is left out: the ConfigMap must stay under the API server's 1 MiB limit. */
const MAX_CONFIGMAP_BYTES = 900 * 1024;

export type StoredOutput = {
  task: string;
  output: unknown;
  markdown: string;
  provider: string;
  model: string;
  quality: number;
  attempt: number;
  finishedAt: string;
  workItems?: number;
};

/**
 * A task's validated output as a ConfigMap of the startup's namespace: the JSON, a
 * Markdown rendering for people, and in annotations what the scheduler needs (so it can
 * watch outputs as metadata only). Owned by the Startup: deleting it deletes them.
 */
export function desiredOutputConfigMap(startup: StartupRef, o: StoredOutput): KubeObject {
  const json = JSON.stringify(o.output, null, 2);
  const markdown = Buffer.byteLength(json) + Buffer.byteLength(o.markdown) <= MAX_CONFIGMAP_BYTES
    ? o.markdown
    : `# ${o.task}\n\nThe output is too large to render here; see ${OUTPUT_JSON_KEY}.\n`;
  const metadata = childMetadata(startup, outputConfigMapName(o.task), startupNamespace(startup.name), { [TASK_LABEL]: o.task, [OUTPUT_LABEL]: 'true' });
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      ...metadata,
      annotations: {
        [OUTPUT_PROVIDER_ANNOTATION]: o.provider,
        [OUTPUT_MODEL_ANNOTATION]: o.model,
        [OUTPUT_QUALITY_ANNOTATION]: o.quality.toFixed(3),
        [OUTPUT_ATTEMPT_ANNOTATION]: String(o.attempt),
        [OUTPUT_FINISHED_ANNOTATION]: o.finishedAt,
        ...(o.workItems !== undefined ? { [OUTPUT_WORK_ITEMS_ANNOTATION]: String(o.workItems) } : {}),
      },
    },
    data: { [OUTPUT_JSON_KEY]: json, [OUTPUT_MARKDOWN_KEY]: markdown },
  };
}

/**
 * Whether an object of a startup's namespace belongs to this Startup and not to an
 * earlier one of the same name, whose namespace and children may still be going away.
 */
export function ownedBy(uid: string | undefined): (obj: KubeObject) => boolean {
  return (obj) => uid !== undefined && (obj.metadata.ownerReferences ?? []).some((o) => o.uid === uid && o.controller === true);
}

/** An output ConfigMap (metadata is enough) as the scheduler sees it. */
export function outputView(cm: KubeObject): OutputView | undefined {
  const task = cm.metadata.labels?.[TASK_LABEL];
  if (!task) return undefined;
  const a = cm.metadata.annotations ?? {};
  const num = (v: string | undefined) => (v === undefined || v === '' || Number.isNaN(Number(v)) ? undefined : Number(v));
  return {
    name: task,
    provider: a[OUTPUT_PROVIDER_ANNOTATION],
    model: a[OUTPUT_MODEL_ANNOTATION],
    quality: num(a[OUTPUT_QUALITY_ANNOTATION]),
    rubricQuality: num(a[OUTPUT_RUBRIC_QUALITY_ANNOTATION]),
    attempt: num(a[OUTPUT_ATTEMPT_ANNOTATION]),
    finishedAt: a[OUTPUT_FINISHED_ANNOTATION],
    workItems: num(a[OUTPUT_WORK_ITEMS_ANNOTATION]),
  };
}

/** A startup's stored outputs by task, from the cached ConfigMaps of its namespace that are its own. */
export function outputViews(configMaps: readonly KubeObject[], startupUid: string | undefined): Map<string, OutputView> {
  const outputs = new Map<string, OutputView>();
  for (const cm of configMaps.filter(ownedBy(startupUid))) {
    const view = outputView(cm);
    if (view) outputs.set(view.name, view);
  }
  return outputs;
}

/**
 * The pipeline's stored outputs as plan documents, in the order the pipeline produced them,
 * but only those of this Startup: an earlier one of the same name may have left some
 * behind while its namespace goes away.
 */
export function planDocuments(configMaps: readonly (KubeObject & { data?: Record<string, string> })[], startupUid: string | undefined): PlanDocument[] {
  return configMaps
    .filter(ownedBy(startupUid))
    .flatMap((cm) => {
      const view = outputView(cm);
      return view ? [{ cm, view }] : [];
    })
    .sort((a, b) => (a.view.finishedAt ?? '').localeCompare(b.view.finishedAt ?? '') || a.view.name.localeCompare(b.view.name))
    .map(({ cm, view }) => ({
      task: view.name,
      json: cm.data?.[OUTPUT_JSON_KEY] ?? '{}',
      markdown: cm.data?.[OUTPUT_MARKDOWN_KEY] ?? '',
      provider: view.provider ?? '',
      model: view.model ?? '',
      quality: view.quality?.toFixed(3) ?? '',
    }));
}

/**
 * The annotations that put a review's verdict into a codegen output's quality. The
 * rubric's own score is kept beside it, so a review run again weighs its verdict against
 * that score and not against the already combined one.
 */
export function reviewedAnnotations(codegen: OutputView, verdict: 'approve' | 'changes-requested'): Record<string, string> | undefined {
  const rubric = codegen.rubricQuality ?? codegen.quality;
  if (rubric === undefined) return undefined;
  return {
    [OUTPUT_RUBRIC_QUALITY_ANNOTATION]: rubric.toFixed(3),
    [OUTPUT_REVIEW_VERDICT_ANNOTATION]: verdict,
    [OUTPUT_QUALITY_ANNOTATION]: withReviewVerdict(rubric, verdict).toFixed(3),
  };
}

/**
 * One source task's part of the shared context ConfigMap: its entries as JSON for the
 * gateway and as Markdown for the team. Each task writes only its own keys (a merge
 * patch), so fan-out items finishing together never overwrite each other.
 */
export function contextData(source: string, entries: readonly ContextEntry[]): Record<string, string> {
  const markdown = entries.map((e) => `## ${e.title}\n\n${e.text.trim()}\n`).join('\n');
  return { [`${source}.json`]: `${JSON.stringify(entries, null, 2)}\n`, [`${source}.md`]: markdown };
}

/** The shared context ConfigMap as made on the first write, owned by the Startup like the outputs. */
export function desiredContextConfigMap(startup: StartupRef, data: Record<string, string>): KubeObject & { data: Record<string, string> } {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: childMetadata(startup, CONTEXT_CONFIGMAP, startupNamespace(startup.name)), data };
}

/** The stored context by source task; keys that do not parse are left out (their outputs stand in). */
export function storedContext(data: Readonly<Record<string, string>> | undefined): Map<string, ContextEntry[]> {
  const out = new Map<string, ContextEntry[]>();
  for (const [key, value] of Object.entries(data ?? {})) {
    if (!key.endsWith('.json')) continue;
    try {
      const entries: unknown = JSON.parse(value);
      if (Array.isArray(entries) && entries.every(isEntry)) out.set(key.slice(0, -'.json'.length), entries);
    } catch {
      // Someone edited it by hand: the entries are made again from the output.
    }
  }
  return out;
}

function isEntry(e: unknown): e is ContextEntry {
  const o = e as Partial<ContextEntry> | null;
  return typeof o === 'object' && o !== null && typeof o.source === 'string' && typeof o.title === 'string'
    && typeof o.text === 'string' && typeof o.priority === 'number' && typeof o.topic === 'string';
}
