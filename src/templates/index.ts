/**
 * The template system: load and pack template directories, validate templates, render
 * a startup's scaffold safely, and carry the rendered tree in ConfigMaps and back.
 */
import { buildRenderContext, type RenderInput } from './context.ts';
import { packTree, type ConfigMap } from './configmaps.ts';
import { renderScaffoldIsolated } from './isolate.ts';
import { renderTree } from './render.ts';
import type { FileTree } from './tree.ts';

export { buildRenderContext, slugify } from './context.ts';
export type { Allocation, RenderContext, RenderInput } from './context.ts';
export {
  CONTENT_HASH_ANNOTATION, MANIFEST_NAME, SCAFFOLD_LABEL, SCAFFOLD_PREFIX, packTree, readManifest, treeHash, unpackConfigMaps,
} from './configmaps.ts';
export type { ConfigMap, Manifest } from './configmaps.ts';
export { renderScaffoldIsolated } from './isolate.ts';
export { loadTemplateDir, toStartupTemplate } from './load.ts';
export type { LoadedTemplate } from './load.ts';
export { ParameterError, resolveParameters } from './parameters.ts';
export { RenderError, renderTree } from './render.ts';
export type { FileTree } from './tree.ts';
export { validateTemplate } from './validate.ts';
export type { TemplateValidation } from './validate.ts';

/** A startup's rendered scaffold. Throws ParameterError (bad spec.values) or RenderError. */
export function renderScaffold(input: RenderInput): FileTree {
  return renderTree(input.template.spec.files, buildRenderContext(input));
}

/**
 * The ConfigMaps of a startup's scaffold, for server-side apply in its namespace. The
 * render runs in a worker with a deadline (see renderScaffoldIsolated).
 * Every one carries the tree's content hash (CONTENT_HASH_ANNOTATION): when the live
 * manifest's equals the new one, nothing needs writing. Chunks beyond the manifest's
 * list (`scaffold-<n>` from a larger earlier tree) are the caller's to delete.
 */
export async function scaffoldConfigMaps(input: RenderInput, labels: Record<string, string>): Promise<ConfigMap[]> {
  return packTree(await renderScaffoldIsolated(input), { namespace: buildRenderContext(input).namespace, labels });
}
