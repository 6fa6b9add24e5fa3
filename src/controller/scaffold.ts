import { startupTemplateSpecSchema, type Startup, type StartupSpec, type StartupStatus, type StartupTemplate } from '../api/index.ts';
import type { KubeObject } from '../kube/client.ts';
import { ownerReference, type StartupRef } from '../provisioning/metadata.ts';
import { managedLabels } from '../provisioning/metadata.ts';
import { ParameterError, scaffoldConfigMapsIsolated } from '../templates/index.ts';

type Allocation = NonNullable<StartupStatus['allocation']>;

/** The scaffold as ConfigMaps to apply, or why there is none (the TemplateRendered condition's reason). */
export type ScaffoldResult =
  | { ok: true; configMaps: KubeObject[] }
  | { ok: false; reason: 'TemplateNotFound' | 'TemplateInvalid' | 'InvalidValues' | 'RenderFailed'; message: string };

/**
 * Renders a Startup's scaffold into ConfigMaps, remembering the last result per Startup:
 * a render walks every file of the template, so a pass whose inputs (the template's
 * generation, the Startup's generation, its allocation) are unchanged reuses it.
 * Templates are anyone's to apply, so the render runs in a worker under a deadline: a
 * template that loops fails its own Startup, not the controller.
 */
export class ScaffoldRenderer {
  readonly #last = new Map<string, { key: string; result: ScaffoldResult }>();

  async render(startup: Startup, spec: StartupSpec, template: StartupTemplate | undefined, allocation: Allocation): Promise<ScaffoldResult> {
    if (!template) return { ok: false, reason: 'TemplateNotFound', message: `StartupTemplate ${spec.template} does not exist` };
    const uid = startup.metadata.uid ?? startup.metadata.name;
    const key = JSON.stringify([template.metadata.uid, template.metadata.generation, startup.metadata.generation, allocation]);
    const cached = this.#last.get(uid);
    if (cached?.key === key) return cached.result;
    const result = await renderScaffold({ name: startup.metadata.name, uid: startup.metadata.uid ?? '' }, spec, template, allocation);
    this.#last.set(uid, { key, result });
    return result;
  }

  /** Drops what is remembered for Startups that no longer exist. */
  retain(uids: ReadonlySet<string>): void {
    for (const uid of this.#last.keys()) if (!uids.has(uid)) this.#last.delete(uid);
  }
}

async function renderScaffold(ref: StartupRef, spec: StartupSpec, template: StartupTemplate, allocation: Allocation): Promise<ScaffoldResult> {
  const parsed = startupTemplateSpecSchema.safeParse(template.spec);
  if (!parsed.success) {
    return { ok: false, reason: 'TemplateInvalid', message: `StartupTemplate ${template.metadata.name}: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  }
  try {
    const configMaps = await scaffoldConfigMapsIsolated({ name: ref.name, spec, template: { name: template.metadata.name, spec: parsed.data }, allocation }, managedLabels(ref));
    return {
      ok: true,
      configMaps: configMaps.map((cm) => ({ ...cm, metadata: { ...cm.metadata, ownerReferences: [ownerReference(ref)] } })),
    };
  } catch (err) {
    return { ok: false, reason: err instanceof ParameterError ? 'InvalidValues' : 'RenderFailed', message: (err as Error).message.slice(0, 1024) };
  }
}
