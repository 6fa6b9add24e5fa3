import { startupTemplateSpecSchema, type StartupSpec } from '../api/index.ts';
import { renderScaffoldIsolated } from './isolate.ts';
import { formatIssues } from './load.ts';
import { compileParameterSchema, ParameterError, type Parameters } from './parameters.ts';

export type TemplateValidation =
  | { ok: true; fileCount: number }
  | { ok: false; reason: 'InvalidSpec' | 'InvalidParameterSchema' | 'RenderFailed'; message: string };

/** A made-up startup to render with: every file must render for any plausible startup, this one included. */
const SAMPLE_STARTUP: StartupSpec = {
  displayName: 'Sample Startup',
  industry: 'software',
  category: 'tools',
  idea: 'A sample idea used to check that every file of the template renders.',
  template: 'sample',
  founder: { name: 'Sam Founder', skills: ['engineering'], experience: 'Ten years of building things.', goals: 'Ship.' },
  resources: { memory: '512Mi', cpu: '500m', storage: '2Gi' },
  expose: 'ClusterIP',
  ai: { routing: 'Learned', quota: { callsPerHour: 1000, costPerDay: '15.00' } },
  suspend: false,
  priority: 0,
};

/**
 * Sample values for parameters that are required and have no default: the first of
 * their JSON Schema `examples`. A template whose required parameters have neither
 * cannot be checked and fails validation saying which.
 */
function sampleValues(schema: Record<string, unknown> | undefined): Parameters {
  const properties = (schema?.properties ?? {}) as Record<string, { default?: unknown; examples?: unknown[] }>;
  const required = Array.isArray(schema?.required) ? (schema.required as string[]) : [];
  return Object.fromEntries(required
    .filter((name) => properties[name]?.default === undefined && Array.isArray(properties[name]?.examples))
    .map((name) => [name, properties[name]?.examples?.[0]]));
}

/**
 * Everything that makes a template usable, in order: the spec's shape (pipeline
 * included), the parameter schema compiling with ajv, and every file rendering with
 * the defaults, in a worker with a deadline (templates come from anyone who can apply
 * one). The result maps straight onto the StartupTemplate's Ready condition.
 */
export async function validateTemplate(template: { name: string; spec: unknown }): Promise<TemplateValidation> {
  const parsed = startupTemplateSpecSchema.safeParse(template.spec);
  if (!parsed.success) return { ok: false, reason: 'InvalidSpec', message: formatIssues(parsed.error) };
  const spec = parsed.data;
  try {
    compileParameterSchema(spec.parameters ?? {});
  } catch (err) {
    return { ok: false, reason: 'InvalidParameterSchema', message: (err as Error).message };
  }
  try {
    await renderScaffoldIsolated({
      name: 'sample',
      spec: { ...SAMPLE_STARTUP, template: template.name, values: sampleValues(spec.parameters) },
      template: { name: template.name, spec },
    });
  } catch (err) {
    const reason = err instanceof ParameterError ? 'InvalidParameterSchema' : 'RenderFailed';
    return { ok: false, reason, message: (err as Error).message };
  }
  return { ok: true, fileCount: spec.files.length };
}
