import nunjucks from 'nunjucks';
import { assertSafeTemplate } from './sandbox.ts';
import { assertTreePath, type FileTree } from './tree.ts';

/** A file of a template as the StartupTemplate holds it: Nunjucks text, or base64 bytes copied verbatim. */
export type TemplateFile = { path: string; content?: string | undefined; base64?: string | undefined };

/** The source names a file by, in error messages ("file frontend/app/page.tsx", "path of ..."). */
export class RenderError extends Error {
  override name = 'RenderError';
}

/**
 * No loader may touch the file system: nunjucks falls back to a FileSystemLoader on
 * `views/` when given none, so it gets one that refuses every name. (The sandbox check
 * already refuses include/import/extends; this is the second lock.)
 */
const noFiles: nunjucks.ILoader = {
  getSource(name: string): nunjucks.LoaderSource {
    throw new Error(`template "${name}" is not available: templates cannot load files`);
  },
};

function environment(): nunjucks.Environment {
  // Autoescape is for HTML; these are source files, where escaping would corrupt code.
  // Values are never re-parsed as templates, so `{{ 7*7 }}` in a value stays text anyway.
  return new nunjucks.Environment([noFiles], { autoescape: false, throwOnUndefined: true });
}

/** Render one Nunjucks source after the sandbox check. */
export function renderString(env: nunjucks.Environment, source: string, context: object): string {
  assertSafeTemplate(source);
  return env.renderString(source, context);
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^\(unknown path\)\s*/, '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
}

/**
 * Render one user-supplied Nunjucks string (a pipeline task's prompt, say) in the same
 * sandbox as template files, failing with a one-line RenderError.
 */
export function renderSandboxed(source: string, context: object): string {
  try {
    return renderString(environment(), source, context);
  } catch (err) {
    throw new RenderError(firstLine(err));
  }
}

/**
 * Render a template's files with a context into a tree: file paths may hold placeholders
 * too, and the rendered path must stay inside the tree; text is rendered, binary copied
 * byte for byte. Fails on the first file that does not render, naming it.
 */
export function renderTree(files: readonly TemplateFile[], context: object): FileTree {
  const env = environment();
  const tree: FileTree = new Map();
  const origin = new Map<string, string>();
  for (const file of files) {
    let path: string;
    let bytes: Buffer;
    try {
      path = renderString(env, file.path, context);
    } catch (err) {
      throw new RenderError(`path of file ${file.path}: ${firstLine(err)}`);
    }
    try {
      assertTreePath(path, `file ${file.path} renders to`);
    } catch (err) {
      throw new RenderError(firstLine(err));
    }
    try {
      bytes = file.base64 !== undefined
        ? Buffer.from(file.base64, 'base64')
        : Buffer.from(renderString(env, file.content ?? '', context), 'utf8');
    } catch (err) {
      throw new RenderError(`file ${file.path}: ${firstLine(err)}`);
    }
    const clash = origin.get(path);
    if (clash !== undefined) throw new RenderError(`files ${clash} and ${file.path} both render to ${path}`);
    origin.set(path, file.path);
    tree.set(path, bytes);
  }
  return tree;
}
