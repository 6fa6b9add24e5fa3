import { z } from 'zod';
import { withRules } from './cel.ts';
import { conditionsSchema, distinct, observedGeneration, quantitySchema, servicesSchema, text } from './common.ts';
import { pipelineSchema } from './pipeline.ts';

export const MAX_TEMPLATE_FILES = 2048;
/** Keeps every file, and so the object, well inside etcd's 1.5 MiB request limit. */
export const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Relative, slash-separated, no empty, `.` or `..` segment, no backslash or control
 * character: a file can never land outside the tree. Dotfiles and Next.js `[id]`
 * segments are fine.
 */
const FILE_PATH = '^[^/\\\\\\x00-\\x1f]+(/[^/\\\\\\x00-\\x1f]+)*$';
/** `[.]`, not an escaped dot: the same text is a CEL string literal. */
const DOT_SEGMENT = '(^|/)[.][.]?(/|$)';
const BASE64 = '^[A-Za-z0-9+/]*={0,2}$';

const templateFileSchema = withRules(
  z.strictObject({
    path: withRules(
      text(1024, 1).regex(new RegExp(FILE_PATH), 'must be a relative slash-separated path'),
      [{
        rule: `!self.matches('${DOT_SEGMENT}')`,
        message: 'must not contain . or .. segments',
        check: (p) => !new RegExp(DOT_SEGMENT).test(p),
      }],
    ).describe('Path of the file in the rendered tree: relative, slash-separated, without . or .. segments.'),
    content: text(MAX_FILE_BYTES).optional()
      .describe('Text content, a Nunjucks template rendered with the startup\'s values.'),
    base64: z.string().max(Math.ceil(MAX_FILE_BYTES / 3) * 4).regex(new RegExp(BASE64), 'must be base64').optional()
      .describe('Binary content, base64-encoded, copied verbatim (never rendered).'),
  }),
  [{
    rule: 'has(self.content) != has(self.base64)',
    message: 'exactly one of content or base64 must be set',
    check: (f) => (f.content === undefined) !== (f.base64 === undefined),
  }],
).describe('One file of the template.');

export const startupTemplateSpecSchema = z.strictObject({
  description: text(256, 1).describe('What the template scaffolds, shown by kubectl get stpl.'),
  framework: z.string().min(1).max(63).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be lowercase, e.g. nextjs')
    .describe('Main framework of the scaffold, e.g. nextjs, nuxt, flutter.'),
  parameters: z.record(z.string(), z.unknown()).optional()
    .describe('JSON Schema (draft 2020-12) of the parameters a Startup passes in spec.values, with defaults; kept as written.'),
  services: servicesSchema.optional().describe('Default services of startups using the template, e.g. frontend 3000, api 8000, db 5432.'),
  resources: z.strictObject({
    memory: quantitySchema.optional().describe('Memory the scaffold needs to run.'),
    cpu: quantitySchema.optional().describe('CPU the scaffold needs to run.'),
    storage: quantitySchema.optional().describe('Storage the scaffold needs.'),
  }).optional().describe('Resources the scaffold is sized for, as Kubernetes quantities.'),
  pipeline: pipelineSchema.optional().describe('Default AI pipeline of startups using the template.'),
  files: z.array(templateFileSchema).max(MAX_TEMPLATE_FILES).refine(distinct((f: { path: string }) => f.path), { message: 'file paths must be unique' }).default([])
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['path'] })
    .describe('The file tree, text files as Nunjucks templates and binary files base64-encoded.'),
}).describe('A project scaffold with its parameters and default AI pipeline.');

export const startupTemplateStatusSchema = z.object({
  observedGeneration: observedGeneration().optional(),
  conditions: conditionsSchema.optional(),
  fileCount: z.int().min(0).optional().describe('Number of files in the template.'),
}).describe('Observed state of the template: Ready=False with a reason when it does not validate.');
