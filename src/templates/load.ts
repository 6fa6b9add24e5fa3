import { lstat, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { z } from 'zod';
import { API_GROUP_VERSION, startupTemplateSpecSchema, type StartupTemplate, type StartupTemplateSpec } from '../api/index.ts';
import { dnsSubdomain } from '../api/common.ts';
import type { TemplateFile } from './render.ts';
import { asText, assertTreePath } from './tree.ts';

/**
 * A template directory: `template.yaml` (the StartupTemplate spec without its files,
 * plus a name and optional includes) and the tree under `files/`. Includes let templates
 * share trees without copies (reactnext and vuenuxt share one FastAPI backend): each
 * names a directory beside the template, and where its files land in the tree.
 */
const includeSchema = z.strictObject({
  from: z.string().min(1).describe('Directory to include, relative to the template directory, inside the template library.'),
  to: z.string().min(1).optional().describe('Directory of the tree it lands in (the root when unset).'),
});

export const templateYamlSchema = startupTemplateSpecSchema.omit({ files: true }).extend({
  name: dnsSubdomain('Name of the StartupTemplate.'),
  include: z.array(includeSchema).default([]),
});

export type LoadedTemplate = { name: string; spec: StartupTemplateSpec };

export const TEMPLATE_FILE = 'template.yaml';
export const FILES_DIR = 'files';

export class TemplateLoadError extends Error {
  override name = 'TemplateLoadError';
}

/** zod issues as `path: message; ...`, the shape every user-facing error here takes. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}

/** Files under `dir`, as tree paths in sorted order. Symlinks are refused: they could point anywhere. */
async function walk(dir: string, prefix = ''): Promise<{ path: string; file: string }[]> {
  const entries = (await readdir(dir)).sort();
  const out: { path: string; file: string }[] = [];
  for (const entry of entries) {
    const file = join(dir, entry);
    const path = prefix ? `${prefix}/${entry}` : entry;
    const stat = await lstat(file);
    if (stat.isSymbolicLink()) throw new TemplateLoadError(`${file}: symbolic links are not allowed in a template`);
    if (stat.isDirectory()) out.push(...(await walk(file, path)));
    else if (stat.isFile()) out.push({ path, file });
  }
  return out;
}

async function readTree(dir: string, prefix: string, files: Map<string, TemplateFile>, origin: string): Promise<void> {
  for (const { path, file } of await walk(dir, prefix)) {
    assertTreePath(path);
    if (files.has(path)) throw new TemplateLoadError(`${origin}: ${path} is also provided by another part of the template`);
    const bytes = await readFile(file);
    const text = asText(bytes);
    files.set(path, text !== undefined ? { path, content: text } : { path, base64: bytes.toString('base64') });
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** Read a template directory into its name and full spec (includes resolved, files inline). */
export async function loadTemplateDir(dir: string): Promise<LoadedTemplate> {
  const root = resolve(dir);
  let raw: unknown;
  try {
    raw = YAML.parse(await readFile(join(root, TEMPLATE_FILE), 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TemplateLoadError(code === 'ENOENT' || code === 'ENOTDIR'
      ? `${dir} is not a template directory (no ${TEMPLATE_FILE})`
      : `${join(dir, TEMPLATE_FILE)}: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = templateYamlSchema.safeParse(raw);
  if (!parsed.success) throw new TemplateLoadError(`${join(dir, TEMPLATE_FILE)}: ${formatIssues(parsed.error)}`);
  const { name, include, ...rest } = parsed.data;

  const files = new Map<string, TemplateFile>();
  if (await isDirectory(join(root, FILES_DIR))) await readTree(join(root, FILES_DIR), '', files, dir);
  const library = dirname(root);
  for (const inc of include) {
    const source = resolve(root, inc.from);
    if (!(source + sep).startsWith(library + sep) || source === root) {
      throw new TemplateLoadError(`${join(dir, TEMPLATE_FILE)}: include ${inc.from} must be a directory beside the template`);
    }
    if (!(await isDirectory(source))) throw new TemplateLoadError(`${join(dir, TEMPLATE_FILE)}: include ${inc.from} is not a directory`);
    if (inc.to !== undefined) assertTreePath(inc.to, 'include target');
    await readTree(source, inc.to ?? '', files, `include ${relative(library, source) || basename(source)}`);
  }
  const spec = startupTemplateSpecSchema.safeParse({ ...rest, files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1)) });
  if (!spec.success) throw new TemplateLoadError(`${dir}: ${formatIssues(spec.error)}`);
  return { name, spec: spec.data };
}

/** The StartupTemplate object for a loaded template: what `template pack` prints and the Helm chart installs. */
export function toStartupTemplate(template: LoadedTemplate): StartupTemplate {
  return {
    apiVersion: API_GROUP_VERSION as StartupTemplate['apiVersion'],
    kind: 'StartupTemplate',
    metadata: { name: template.name },
    spec: template.spec,
  };
}

/** The repository's built-in templates, `templates/<name>/`. */
export const BUILTIN_TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));

/** `reactnext` → the built-in; anything with a slash (or `.`) is a directory path. */
export function templateDir(nameOrDir: string): string {
  return /[/\\]/.test(nameOrDir) || nameOrDir.startsWith('.') ? nameOrDir : join(BUILTIN_TEMPLATES, nameOrDir);
}
