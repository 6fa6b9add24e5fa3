import { stringify } from 'yaml';
import { z } from 'zod';
import type { CelValidation } from './cel.ts';
import { API_GROUP, API_VERSION } from './common.ts';
import { aiProviderSpecSchema, aiProviderStatusSchema } from './provider.ts';
import { startupNameRule, startupSpecSchema, startupStatusSchema } from './startup.ts';
import { type JsonSchema, toStructuralSchema } from './structural.ts';
import { startupTemplateSpecSchema, startupTemplateStatusSchema } from './template.ts';

const CATEGORY = 'startupfactory';

type PrinterColumn = { name: string; type: string; jsonPath: string; description: string; priority?: number };

type KindDefinition = {
  kind: string;
  plural: string;
  singular: string;
  shortName: string;
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  rootRules?: CelValidation[];
  columns: PrinterColumn[];
};

const readyColumn: PrinterColumn = {
  name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Ready condition',
};
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation' };

export const KINDS: KindDefinition[] = [
  {
    kind: 'Startup',
    plural: 'startups',
    singular: 'startup',
    shortName: 'su',
    description: 'A startup: an isolated, quota-bounded namespace with its services, a project scaffold rendered from a StartupTemplate, and an AI pipeline run as Jobs.',
    spec: startupSpecSchema,
    status: startupStatusSchema,
    rootRules: [startupNameRule],
    columns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase' },
      { name: 'Template', type: 'string', jsonPath: '.spec.template', description: 'StartupTemplate' },
      { name: 'Namespace', type: 'string', jsonPath: '.status.namespace', description: 'Namespace of the startup' },
      { name: 'Tasks', type: 'string', jsonPath: '.status.progress', description: 'Pipeline tasks succeeded out of all' },
      { name: 'Cost', type: 'string', jsonPath: '.status.usage.totalCostUsd', description: 'USD spent on AI' },
      readyColumn,
      { name: 'Industry', type: 'string', jsonPath: '.spec.industry', description: 'Industry', priority: 1 },
      { name: 'Expose', type: 'string', jsonPath: '.spec.expose', description: 'How services are exposed', priority: 1 },
      { name: 'Priority', type: 'integer', jsonPath: '.spec.priority', description: 'Admission priority', priority: 1 },
      ageColumn,
    ],
  },
  {
    kind: 'StartupTemplate',
    plural: 'startuptemplates',
    singular: 'startuptemplate',
    shortName: 'stpl',
    description: 'A project scaffold (files with Nunjucks placeholders), its parameter schema and its default AI pipeline; apply your own to extend the marketplace.',
    spec: startupTemplateSpecSchema,
    status: startupTemplateStatusSchema,
    columns: [
      { name: 'Description', type: 'string', jsonPath: '.spec.description', description: 'What the template scaffolds' },
      { name: 'Framework', type: 'string', jsonPath: '.spec.framework', description: 'Main framework' },
      readyColumn,
      { name: 'Files', type: 'integer', jsonPath: '.status.fileCount', description: 'Number of files', priority: 1 },
      ageColumn,
    ],
  },
  {
    kind: 'AIProvider',
    plural: 'aiproviders',
    singular: 'aiprovider',
    shortName: 'aip',
    description: 'An AI model endpoint (OpenAI, Anthropic, any OpenAI-compatible URL, or the offline demo provider) that the gateway routes tasks to.',
    spec: aiProviderSpecSchema,
    status: aiProviderStatusSchema,
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Provider type' },
      { name: 'Model', type: 'string', jsonPath: '.spec.model', description: 'Default model' },
      readyColumn,
      { name: 'Base URL', type: 'string', jsonPath: '.spec.baseURL', description: 'API base URL', priority: 1 },
      ageColumn,
    ],
  },
];

/** The OpenAPI schema of one zod schema, as the API server wants it. */
export function openApiSchema(schema: z.ZodType): JsonSchema {
  // `input`: fields with defaults are optional to the user; the API server fills them in.
  const json = z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0', reused: 'inline', cycles: 'throw', unrepresentable: 'throw' });
  return toStructuralSchema(json as JsonSchema);
}

export function crdFor(def: KindDefinition): Record<string, unknown> {
  const root: JsonSchema = {
    type: 'object',
    description: def.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'Versioned schema of this object: startupfactory.dev/v1alpha1.' },
      kind: { type: 'string', description: `Kind of this object: ${def.kind}.` },
      metadata: { type: 'object' },
      spec: openApiSchema(def.spec),
      status: openApiSchema(def.status),
    },
    ...(def.rootRules ? { 'x-kubernetes-validations': def.rootRules } : {}),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${API_GROUP}`,
      labels: { 'app.kubernetes.io/name': 'startup-factory', 'app.kubernetes.io/part-of': 'startup-factory' },
    },
    spec: {
      group: API_GROUP,
      scope: 'Cluster',
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: [def.shortName],
        categories: [CATEGORY],
      },
      versions: [{
        name: API_VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: def.columns,
        schema: { openAPIV3Schema: root },
      }],
    },
  };
}

const HEADER = '# Generated from src/api by `npm run crds`: edit the zod schemas, not this file.\n';

/** File name and YAML text of every CRD, as committed under crds/. */
export function renderCrdFiles(): { file: string; yaml: string }[] {
  return KINDS.map((def) => ({
    file: `${def.plural}.${API_GROUP}.yaml`,
    yaml: HEADER + stringify(crdFor(def), { lineWidth: 0 }),
  }));
}
