import { z } from 'zod';
import { withRules } from './cel.ts';
import {
  MAX_SERVICES, conditionsSchema, distinct, text, dnsSubdomain, observedGeneration, quantitySchema, servicesSchema, timestamp, usdAmount, usdStatus,
} from './common.ts';
import { TASK_TYPES, pipelineSchema } from './pipeline.ts';

/** Startup `<name>` lives in namespace `startup-<name>`, which must stay a 63-character label. */
export const MAX_STARTUP_NAME_LENGTH = 55;
export const STARTUP_NAMESPACE_PREFIX = 'startup-';
export const startupNamespace = (name: string) => `${STARTUP_NAMESPACE_PREFIX}${name}`;

export const EXPOSE_TYPES = ['ClusterIP', 'NodePort'] as const;
export const ROUTING_MODES = ['Learned', 'Ordered'] as const;
export const STARTUP_PHASES = ['Queued', 'Provisioning', 'Running', 'Succeeded', 'Failed', 'Suspended'] as const;
export const TASK_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Skipped'] as const;
export type StartupPhase = (typeof STARTUP_PHASES)[number];
export type TaskPhase = (typeof TASK_PHASES)[number];


const founderSchema = z.strictObject({
  name: text(128, 1).describe('The founder\'s name.'),
  skills: z.array(text(64, 1)).max(32).default([]).describe('Skills the founder brings, e.g. full-stack development, sales.'),
  experience: text(2000).optional().describe('The founder\'s background and track record, in prose.'),
  goals: text(2000).optional().describe('What the founder wants from this startup, in prose.'),
}).describe('The founder profile, input to the founder-analysis task.');

const resourcesSchema = z.strictObject({
  memory: quantitySchema.prefault('512Mi').describe('Memory for the whole startup: requests.memory and limits.memory of its ResourceQuota (default 512Mi).'),
  cpu: quantitySchema.prefault('500m').describe('CPU for the whole startup: requests.cpu and limits.cpu of its ResourceQuota (default 500m).'),
  storage: quantitySchema.prefault('2Gi').describe('Storage the startup may claim: requests.storage of its ResourceQuota (default 2Gi).'),
}).prefault({}).describe(
  'Resources of the startup as Kubernetes quantities; they become the ResourceQuota of its namespace, and admission keeps the sum over admitted startups within the factory\'s capacity.',
);

const quotaSchema = z.strictObject({
  callsPerHour: z.int().min(0).max(1_000_000).default(1000).describe('Most AI calls the startup may make in a clock hour (default 1000).'),
  costPerDay: usdAmount('15.00').default('15.00').describe('Most USD the startup may spend on AI in a UTC day, a decimal string (default "15.00").'),
}).prefault({}).describe('AI budget; the gateway never lets a startup exceed it, and the pipeline pauses with BudgetExceeded until the window resets.');

const aiSchema = z.strictObject({
  providers: z.array(dnsSubdomain('Name of an AIProvider.')).max(16).refine(distinct(), { message: 'must not name a provider twice' }).optional()
    .meta({ 'x-kubernetes-list-type': 'set' })
    .describe('AIProviders the startup may use (every Ready one when unset); with routing Ordered, in order of preference.'),
  routing: z.enum(ROUTING_MODES).default('Learned')
    .describe('How a task\'s provider is chosen when the task names none: Learned (by measured quality, cost and latency per task type, exploring a little) or Ordered (the first Ready one of providers, the rest as fallbacks).'),
  quota: quotaSchema,
}).prefault({}).describe('Which AI providers the startup uses and how much.');

export const startupSpecSchema = z.strictObject({
  displayName: text(63, 1).describe('Human name of the startup, 1 to 63 characters.'),
  industry: text(63, 1).optional().describe('Industry, e.g. fintech.'),
  category: text(63, 1).optional().describe('Category within the industry, e.g. payments.'),
  idea: text(4000).optional().describe('The pitch, up to 4000 characters.'),
  template: withRules(dnsSubdomain('Name of the StartupTemplate the project is scaffolded from (reactnext, vuenuxt and fluttermobile ship built in); immutable.'), [{
    rule: 'self == oldSelf',
    message: 'spec.template is immutable',
    reason: 'FieldValueForbidden',
  }]),
  values: z.record(z.string(), z.unknown()).optional()
    .describe('Extra template parameters, validated against the template\'s parameter schema.'),
  founder: founderSchema.optional(),
  resources: resourcesSchema,
  services: servicesSchema.optional()
    .describe('Services of the startup, each a Service in its namespace; the template\'s services (frontend 3000, api 8000, db 5432) when unset.'),
  expose: z.enum(EXPOSE_TYPES).default('ClusterIP')
    .describe('How services are exposed: ClusterIP (default), or NodePort with ports allocated by the operator from its pool, unique cluster-wide.'),
  ai: aiSchema,
  pipeline: pipelineSchema.optional().describe('Replaces the template\'s default AI pipeline.'),
  suspend: z.boolean().default(false).describe('Pause the pipeline: running Jobs are suspended, nothing is lost (default false).'),
  priority: z.int().min(-1_000_000).max(1_000_000).default(0)
    .describe('When room is short, higher priority is admitted and scheduled first; equal priorities go in creation order (default 0).'),
}).describe('Desired state of a startup.');

const usageSchema = z.object({
  calls: z.int().min(0).optional().describe('AI calls that went to a provider (cache hits are counted in cachedCalls).'),
  cachedCalls: z.int().min(0).optional().describe('AI calls answered from the gateway\'s response cache: no provider called, nothing billed.'),
  inputTokens: z.int().min(0).optional().describe('Input tokens sent.'),
  outputTokens: z.int().min(0).optional().describe('Output tokens received.'),
  costUsd: usdStatus('Cost in USD, a decimal string such as "0.004250".').optional(),
}).describe('AI usage metered by the gateway.');

const taskStatusSchema = z.object({
  name: z.string().min(1).max(128).describe('Task name; fan-out items carry the item index as a suffix.'),
  type: z.enum(TASK_TYPES).describe('Task type.'),
  phase: z.enum(TASK_PHASES).describe('Pending, Running, Succeeded, Failed or Skipped.'),
  provider: z.string().max(253).optional().describe('AIProvider that served the task.'),
  model: z.string().max(128).optional().describe('Model that served the task.'),
  attempts: z.int().min(0).optional().describe('Attempts made (Jobs created).'),
  job: z.string().max(63).optional().describe('Job of the latest attempt.'),
  startedAt: timestamp('When the first attempt started.').optional(),
  finishedAt: timestamp('When the task succeeded or failed for good.').optional(),
  usage: usageSchema.optional(),
  quality: z.number().min(0).max(1).optional().describe('Score of the output against the task type\'s rubric, 0 to 1.'),
  output: z.string().max(253).optional().describe('ConfigMap in the startup\'s namespace holding the validated output.'),
  reason: z.string().max(1024).optional().describe('Typed reason when the task failed, e.g. Unauthorized, InvalidOutput.'),
}).describe('Progress of one pipeline task.');

const allocationSchema = z.object({
  namespace: z.string().max(63).optional().describe('Namespace of the startup.'),
  services: z.array(z.object({
    name: z.string().max(63).describe('Service name.'),
    port: z.int().min(1).max(65535).describe('Service port.'),
    nodePort: z.int().min(1).max(65535).optional().describe('Node port allocated to it, with expose: NodePort.'),
  })).max(MAX_SERVICES).optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
    .describe('Services created and their ports.'),
  nodePorts: z.array(z.int().min(1).max(65535)).max(MAX_SERVICES).optional()
    .meta({ 'x-kubernetes-list-type': 'set' })
    .describe('Node ports held by the startup, unique across all startups; released when it is deleted.'),
  databaseName: z.string().max(63).optional().describe('Name of the startup\'s database.'),
}).describe('What the operator allocated to the startup.');

const startupUsageSchema = z.object({
  hourStartedAt: timestamp('Start of the current hourly window (a clock hour, UTC).').optional(),
  callsThisHour: z.int().min(0).optional().describe('AI calls in the current hour, in flight included, against ai.quota.callsPerHour.'),
  day: z.string().max(10).optional().describe('UTC day (YYYY-MM-DD) of costTodayUsd.'),
  costTodayUsd: usdStatus('USD spent today (UTC) on settled calls, against ai.quota.costPerDay.').optional(),
  reservedUsd: usdStatus('USD held for calls in flight: their worst case, settled to the real cost when they end.').optional(),
  totalCalls: z.int().min(0).optional().describe('AI calls since creation that went to a provider (cache hits are counted in totalCachedCalls).'),
  totalCachedCalls: z.int().min(0).optional().describe('AI calls since creation answered from the gateway\'s response cache, free and against no quota.'),
  totalInputTokens: z.int().min(0).optional().describe('Input tokens since creation.'),
  totalOutputTokens: z.int().min(0).optional().describe('Output tokens since creation.'),
  totalCostUsd: usdStatus('USD spent since creation.').optional(),
}).describe('AI usage against the quota, kept by the gateway\'s budget ledger.');

export const startupStatusSchema = z.object({
  phase: z.enum(STARTUP_PHASES).optional().describe('Queued, Provisioning, Running, Succeeded, Failed or Suspended.'),
  observedGeneration: observedGeneration().optional(),
  conditions: conditionsSchema.optional(),
  namespace: z.string().max(63).optional().describe('Namespace of the startup, startup-<name>.'),
  allocation: allocationSchema.optional(),
  tasks: z.array(taskStatusSchema).max(512).optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
    .describe('Progress of each pipeline task.'),
  usage: startupUsageSchema.optional(),
  progress: z.string().max(16).optional().describe('Pipeline tasks succeeded out of all, e.g. 5/9.'),
  startedAt: timestamp('When the startup was admitted.').optional(),
  completedAt: timestamp('When the pipeline finished.').optional(),
}).describe('Observed state of a startup, written by the operator.');

/** `metadata.name` feeds the namespace name, so it must be a DNS label short enough for the prefix. */
export const startupNameRule = {
  rule: `self.metadata.name.size() <= ${MAX_STARTUP_NAME_LENGTH} && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')`,
  message: `metadata.name must be a lowercase RFC 1123 label of at most ${MAX_STARTUP_NAME_LENGTH} characters (it names the namespace startup-<name>)`,
};

/** What templates and prompts say about a startup: its description with every optional field as text (empty when unset). */
export function startupProfile(name: string, spec: Pick<z.output<typeof startupSpecSchema>, 'displayName' | 'industry' | 'category' | 'idea' | 'founder'>) {
  return {
    name,
    displayName: spec.displayName,
    industry: spec.industry ?? '',
    category: spec.category ?? '',
    idea: spec.idea ?? '',
    founder: {
      name: spec.founder?.name ?? '',
      skills: [...(spec.founder?.skills ?? [])],
      experience: spec.founder?.experience ?? '',
      goals: spec.founder?.goals ?? '',
    },
  };
}

type SpecResult = ReturnType<typeof startupSpecSchema.safeParse>;
const parsedSpecs = new WeakMap<object, SpecResult>();

/**
 * A Startup's spec parsed (defaults filled), once per spec object: the informers replace
 * an object when it changes, so a spec seen before is the same spec. The gateway needs it
 * on every model call and the controllers on every pass.
 */
export function parseStartupSpec(spec: unknown): SpecResult {
  if (typeof spec !== 'object' || spec === null) return startupSpecSchema.safeParse(spec);
  let result = parsedSpecs.get(spec);
  if (!result) parsedSpecs.set(spec, (result = startupSpecSchema.safeParse(spec)));
  return result;
}
