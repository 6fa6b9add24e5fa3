/** A startup's scaffold: rendered from its template and packed into ConfigMaps, with the hash that says when it is current. */
import { createHash } from 'node:crypto';
import { buildRenderContext, type RenderInput } from './context.ts';
import { packTree, type ConfigMap } from './configmaps.ts';
import { renderScaffoldIsolated } from './isolate.ts';
import { renderTree } from './render.ts';
import type { FileTree } from './tree.ts';

/** On every scaffold ConfigMap: the hash of what the scaffold was rendered from. */
export const INPUT_HASH_ANNOTATION = 'startupfactory.dev/render-input-hash';

/**
 * A hash of everything a render depends on (the context, parameters resolved, and the
 * template's files). When the live manifest's INPUT_HASH_ANNOTATION equals it, the
 * scaffold is current and the reconciler need not render at all.
 */
export function renderInputHash(input: RenderInput): string {
  const context = buildRenderContext(input);
  return createHash('sha256').update(JSON.stringify([context, input.template.spec.files])).digest('hex');
}

/** A startup's rendered scaffold. Throws ParameterError (bad spec.values) or RenderError. */
export function renderScaffold(input: RenderInput): FileTree {
  return renderTree(input.template.spec.files, buildRenderContext(input));
}

function packScaffold(input: RenderInput, tree: FileTree, labels: Record<string, string>): ConfigMap[] {
  return packTree(tree, {
    namespace: buildRenderContext(input).namespace,
    labels,
    annotations: { [INPUT_HASH_ANNOTATION]: renderInputHash(input) },
  });
}

/**
 * The ConfigMaps of a startup's scaffold, for server-side apply in its namespace.
 * Every one carries the tree's content hash (CONTENT_HASH_ANNOTATION): when the live
 * manifest's equals the new one, nothing needs writing. Chunks beyond the manifest's
 * list (`scaffold-<n>` from a larger earlier tree) are the caller's to delete.
 */
export function scaffoldConfigMaps(input: RenderInput, labels: Record<string, string>): ConfigMap[] {
  return packScaffold(input, renderScaffold(input), labels);
}

/**
 * scaffoldConfigMaps with the render in a worker under a deadline and heap cap
 * (renderScaffoldIsolated): for templates from untrusted authors, whose loops the
 * sandbox cannot bound.
 */
export async function scaffoldConfigMapsIsolated(input: RenderInput, labels: Record<string, string>): Promise<ConfigMap[]> {
  return packScaffold(input, await renderScaffoldIsolated(input), labels);
}
