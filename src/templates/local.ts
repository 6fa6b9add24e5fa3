import { startupSpecSchema } from '../api/index.ts';
import type { RenderInput } from './context.ts';
import { formatIssues, type LoadedTemplate } from './load.ts';
import type { Parameters } from './parameters.ts';

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Later layers win; objects merge key by key, anything else is replaced. */
export function mergeValues(...layers: (Parameters | undefined)[]): Parameters {
  const out: Parameters = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      const current = out[key];
      out[key] = isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : value;
    }
  }
  return out;
}

/** `acme-pay` → `Acme Pay`: a display name for a local render that names no Startup manifest. */
function titleCase(name: string): string {
  return name.split('-').filter(Boolean).map((w) => w[0]?.toUpperCase() + w.slice(1)).join(' ');
}

/**
 * The render input for `startup-factory render`: a Startup (name and spec, e.g. from a
 * manifest; only the name is needed) with extra values layered over its spec.values,
 * and no allocation, so namespace, ports and database name are what the operator
 * would derive for a fresh ClusterIP startup.
 */
export function localRenderInput(template: LoadedTemplate, name: string, spec: Record<string, unknown>, values: Parameters): RenderInput {
  const parsed = startupSpecSchema.safeParse({
    displayName: titleCase(name),
    ...spec,
    template: template.name,
    values: mergeValues(isPlainObject(spec.values) ? spec.values : undefined, values),
  });
  if (!parsed.success) throw new Error(`startup spec: ${formatIssues(parsed.error)}`);
  return { name, spec: parsed.data, template };
}
