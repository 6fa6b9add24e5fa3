import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { renderScaffold } from '../../templates/index.ts';
import { loadTemplateDir, templateDir } from '../../templates/load.ts';
import { localRenderInput, mergeValues } from '../../templates/local.ts';
import type { Parameters } from '../../templates/parameters.ts';
import { writeTree } from '../../templates/write.ts';
import { CliError } from '../errors.ts';

const USAGE = 'usage: startup-factory render --template <name|dir> --out <dir> [--name <startup>] [--startup startup.yaml] [--values values.yaml] [--set key=value ...]';
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

async function readYaml(file: string, what: string): Promise<unknown> {
  try {
    return YAML.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CliError(`${what} ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** `a.b=1` → `{a: {b: 1}}`; the value is a YAML scalar, so numbers and booleans get their type. */
export function parseSet(assignment: string): Parameters {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new CliError(`--set ${assignment}: expected key=value`);
  const path = assignment.slice(0, eq).split('.');
  if (path.some((p) => p === '')) throw new CliError(`--set ${assignment}: empty key segment`);
  let value: unknown;
  try {
    value = YAML.parse(assignment.slice(eq + 1));
  } catch {
    value = assignment.slice(eq + 1);
  }
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Parameters;
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        template: { type: 'string' },
        out: { type: 'string' },
        name: { type: 'string' },
        startup: { type: 'string' },
        values: { type: 'string' },
        set: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new CliError(`${(err as Error).message.split('\n')[0]} (${USAGE})`, 2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.template || !values.out) throw new CliError(USAGE, 2);

  let name = values.name;
  let spec: Record<string, unknown> = {};
  if (values.startup) {
    const manifest = await readYaml(values.startup, 'startup') as { kind?: unknown; metadata?: { name?: unknown }; spec?: unknown } | null;
    if (manifest?.kind !== 'Startup' || typeof manifest.spec !== 'object' || manifest.spec === null) {
      throw new CliError(`startup ${values.startup}: not a Startup manifest`);
    }
    spec = manifest.spec as Record<string, unknown>;
    name ??= typeof manifest.metadata?.name === 'string' ? manifest.metadata.name : undefined;
  }
  name ??= 'my-startup';
  if (!NAME.test(name) || name.length > 55) throw new CliError(`--name ${name}: must be a lowercase RFC 1123 label of at most 55 characters`);

  const fileValues = values.values ? await readYaml(values.values, 'values') : undefined;
  if (fileValues !== undefined && fileValues !== null && (typeof fileValues !== 'object' || Array.isArray(fileValues))) {
    throw new CliError(`values ${values.values}: must be a mapping of parameters`);
  }
  const extra = mergeValues((fileValues ?? undefined) as Parameters | undefined, ...(values.set ?? []).map(parseSet));

  try {
    const template = await loadTemplateDir(templateDir(values.template));
    const started = performance.now();
    const tree = renderScaffold(localRenderInput(template, name, spec, extra));
    const elapsed = performance.now() - started;
    await writeTree(tree, values.out);
    process.stderr.write(`rendered ${template.name} for ${name}: ${tree.size} files in ${elapsed.toFixed(0)} ms → ${values.out}\n`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message);
  }
  return 0;
}
