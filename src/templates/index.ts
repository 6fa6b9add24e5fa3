/**
 * The template system: load and pack template directories, validate templates, render
 * a startup's scaffold safely, and carry the rendered tree in ConfigMaps and back.
 */

export { buildRenderContext, slugify } from './context.ts';
export type { Allocation, RenderContext, RenderInput } from './context.ts';
export {
  CHUNKS_ANNOTATION, CONTENT_HASH_ANNOTATION, MANIFEST_NAME, SCAFFOLD_LABEL, SCAFFOLD_PREFIX, packTree, readManifest, treeHash, unpackConfigMaps,
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
export { INPUT_HASH_ANNOTATION, renderInputHash, renderScaffold, scaffoldConfigMaps, scaffoldConfigMapsIsolated } from './scaffold.ts';
