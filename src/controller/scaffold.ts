import { startupTemplateSpecSchema, type Startup, type StartupSpec, type StartupStatus, type StartupTemplate } from '../api/index.ts';
import type { KubeObject } from '../kube/client.ts';
import { ownerReference } from '../provisioning/metadata.ts';
import { managedLabels } from '../provisioning/metadata.ts';
import type { ManagedFieldsEntry } from '../runtime/informer.ts';
import { coversDesired } from './live-match.ts';
import {
  CHUNKS_ANNOTATION, CONTENT_HASH_ANNOTATION, INPUT_HASH_ANNOTATION, MANIFEST_NAME, ParameterError, SCAFFOLD_PREFIX, renderInputHash, scaffoldConfigMapsIsolated,
} from '../templates/index.ts';
import type { RenderInput } from '../templates/context.ts';

type Allocation = NonNullable<StartupStatus['allocation']>;

/** The scaffold as ConfigMaps to apply, or why there is none (the TemplateRendered condition's reason). */
export type ScaffoldResult =
  | { ok: true; configMaps: KubeObject[] }
  | { ok: false; reason: 'TemplateNotFound' | 'TemplateInvalid' | 'InvalidValues' | 'RenderFailed'; message: string };

/**
 * Renders a Startup's scaffold into ConfigMaps when its live ConfigMaps are not already
 * the render of the same inputs. What it remembers per Startup is small: the hash of the
 * inputs (the template's generation, the Startup's, its allocation), or why a render
 * failed, so a failing template is not rendered again on every pass; never the rendered
 * files, which the ConfigMaps themselves hold. Templates are anyone's to apply, so the
 * render runs in a worker under a deadline: a template that loops fails its own
 * Startup, not the controller.
 */
export class ScaffoldRenderer {
  readonly #last = new Map<string, { key: string; inputHash?: string; failure?: ScaffoldFailure }>();

  /** The hash every ConfigMap of the current scaffold carries, or why there can be none. */
  expected(startup: Startup, spec: StartupSpec, template: StartupTemplate | undefined, allocation: Allocation): { ok: true; inputHash: string } | ScaffoldFailure {
    if (!template) return { ok: false, reason: 'TemplateNotFound', message: `StartupTemplate ${spec.template} does not exist` };
    const { uid, key } = this.#key(startup, template, allocation);
    const known = this.#last.get(uid);
    if (known?.key === key) return known.failure ?? { ok: true, inputHash: known.inputHash! };
    const input = renderInput(startup, spec, template, allocation);
    if (!input.ok) {
      this.#last.set(uid, { key, failure: input });
      return input;
    }
    try {
      const inputHash = renderInputHash(input.input);
      this.#last.set(uid, { key, inputHash });
      return { ok: true, inputHash };
    } catch (err) {
      const failure = renderFailure(err);
      this.#last.set(uid, { key, failure });
      return failure;
    }
  }

  async render(startup: Startup, spec: StartupSpec, template: StartupTemplate | undefined, allocation: Allocation): Promise<ScaffoldResult> {
    if (!template) return { ok: false, reason: 'TemplateNotFound', message: `StartupTemplate ${spec.template} does not exist` };
    const { uid, key } = this.#key(startup, template, allocation);
    const known = this.#last.get(uid);
    if (known?.key === key && known.failure) return known.failure;
    const input = renderInput(startup, spec, template, allocation);
    if (!input.ok) {
      this.#last.set(uid, { key, failure: input });
      return input;
    }
    const ref = { name: startup.metadata.name, uid: startup.metadata.uid ?? '' };
    try {
      const configMaps = await scaffoldConfigMapsIsolated(input.input, managedLabels(ref));
      return { ok: true, configMaps: configMaps.map((cm) => ({ ...cm, metadata: { ...cm.metadata, ownerReferences: [ownerReference(ref)] } })) };
    } catch (err) {
      const failure = renderFailure(err);
      this.#last.set(uid, { key, failure });
      return failure;
    }
  }

  /** Drops what is remembered for Startups that no longer exist. */
  retain(uids: ReadonlySet<string>): void {
    for (const uid of this.#last.keys()) if (!uids.has(uid)) this.#last.delete(uid);
  }

  #key(startup: Startup, template: StartupTemplate, allocation: Allocation): { uid: string; key: string } {
    return {
      uid: startup.metadata.uid ?? startup.metadata.name,
      key: JSON.stringify([template.metadata.uid, template.metadata.generation, startup.metadata.generation, allocation]),
    };
  }
}

type ScaffoldFailure = Extract<ScaffoldResult, { ok: false }>;

function renderFailure(err: unknown): ScaffoldFailure {
  return { ok: false, reason: err instanceof ParameterError ? 'InvalidValues' : 'RenderFailed', message: (err as Error).message.slice(0, 1024) };
}

/**
 * A template's spec parsed, per object the cache holds: a template carries hundreds of
 * files, and each of its Startups would otherwise parse all of them on every pass.
 */
const parsedTemplates = new WeakMap<object, ReturnType<typeof startupTemplateSpecSchema.safeParse>>();

function parseTemplateSpec(template: StartupTemplate): ReturnType<typeof startupTemplateSpecSchema.safeParse> {
  if (typeof template.spec !== 'object' || template.spec === null) return startupTemplateSpecSchema.safeParse(template.spec);
  let parsed = parsedTemplates.get(template.spec);
  if (!parsed) parsedTemplates.set(template.spec, (parsed = startupTemplateSpecSchema.safeParse(template.spec)));
  return parsed;
}

function renderInput(startup: Startup, spec: StartupSpec, template: StartupTemplate, allocation: Allocation): { ok: true; input: RenderInput } | ScaffoldFailure {
  const parsed = parseTemplateSpec(template);
  if (!parsed.success) {
    return { ok: false, reason: 'TemplateInvalid', message: `StartupTemplate ${template.metadata.name}: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  }
  return { ok: true, input: { name: startup.metadata.name, spec, template: { name: template.metadata.name, spec: parsed.data }, allocation } };
}

/**
 * Whether the scaffold ConfigMaps in the cache (metadata only) are the whole render of
 * `inputHash`: the manifest and every chunk it counts carry that hash and one content
 * hash, no chunk is left over from a larger render, and nobody but us wrote their data
 * (a hand edit shows in managedFields). Then the reconcile renders nothing.
 */
export function scaffoldCurrent(live: readonly KubeObject[], inputHash: string, owner: string): { current: true; chunks: number } | { current: false } {
  const manifest = live.find((cm) => cm.metadata.name === MANIFEST_NAME);
  const annotations = manifest?.metadata.annotations ?? {};
  const chunks = Number(annotations[CHUNKS_ANNOTATION]);
  if (!manifest || annotations[INPUT_HASH_ANNOTATION] !== inputHash || !Number.isInteger(chunks)) return { current: false };
  const contentHash = annotations[CONTENT_HASH_ANNOTATION];
  const expected = new Set([MANIFEST_NAME, ...Array.from({ length: chunks }, (_, i) => `${SCAFFOLD_PREFIX}${i}`)]);
  if (live.length !== expected.size) return { current: false };
  for (const cm of live) {
    const a = cm.metadata.annotations ?? {};
    if (!expected.has(cm.metadata.name ?? '') || a[INPUT_HASH_ANNOTATION] !== inputHash || a[CONTENT_HASH_ANNOTATION] !== contentHash || writtenByOthers(cm, owner)) return { current: false };
  }
  return { current: true, chunks };
}

/** A live scaffold ConfigMap (metadata only) that already is `desired`: same hashes, labels, owner, and data no one else wrote. */
export function scaffoldCovers(live: KubeObject | undefined, desired: KubeObject, owner: string): boolean {
  if (!live || writtenByOthers(live, owner)) return false;
  return coversDesired(live.metadata, desired.metadata);
}

function writtenByOthers(cm: KubeObject, owner: string): boolean {
  const entries = (cm.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields ?? [];
  return entries.some((e) => e.manager !== owner && (e.fieldsV1?.['f:data'] !== undefined || e.fieldsV1?.['f:binaryData'] !== undefined));
}
