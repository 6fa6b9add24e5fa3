import { z } from 'zod';
import { withRules } from './cel.ts';
import { DNS_LABEL, conditionsSchema, dnsSubdomain, observedGeneration, text, timestamp, usdAmount, usdStatus } from './common.ts';
import { TASK_TYPES } from './pipeline.ts';

const price = (description: string) => usdAmount('2.50').default('0').describe(description);

const ESCAPE = '%[0-9A-Fa-f][0-9A-Fa-f]';
const PORT = '(6553[0-5]|655[0-2][0-9]|65[0-4][0-9][0-9]|6[0-4][0-9][0-9][0-9]|[1-5][0-9][0-9][0-9][0-9]|[0-9]{1,4})';

/**
 * An http or https URL with a host, a port of at most 65535, a path and a query but no
 * fragment, as one regular expression that CEL (RE2) and JavaScript read alike. Neither
 * URL parser could be the other's twin: CEL's isURL takes "http://", "https:/host",
 * "http:host" and port 99999, and refuses a fragment or an invalid escape that
 * JavaScript's URL takes. No backslash and no quote, so it is a CEL string literal too;
 * a `]` outside a class is a literal in both dialects. Hosts are ASCII (punycode for
 * others); an IPv6 literal is checked for its characters only.
 */
export const HTTP_URL = '^[hH][tT][tT][pP][sS]?://'
  + `(([-A-Za-z0-9._~!$&()*+,;=:]|${ESCAPE})+@)?`
  + '([-A-Za-z0-9._]+|[[][0-9A-Fa-f:.]+])'
  + `(:${PORT})?`
  + `(/([-A-Za-z0-9._~!$&()*+,;=:@/]|${ESCAPE})*)?`
  + `([?]([-A-Za-z0-9._~!$&()*+,;=:@/?]|${ESCAPE})*)?$`;

export const PROVIDER_TYPES = ['openai', 'anthropic', 'openai-compatible', 'offline'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

const secretRefSchema = z.strictObject({
  namespace: z.string().min(1).max(63).regex(new RegExp(DNS_LABEL), 'must be a lowercase RFC 1123 label').optional()
    .describe('Namespace of the Secret; the operator\'s own namespace, the only one it reads keys from, when unset.'),
  name: dnsSubdomain('Name of the Secret.'),
  key: z.string().min(1).max(253).regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key').default('api-key')
    .describe('Key in the Secret holding the API key (default api-key).'),
}).describe('Where the API key lives; only the operator\'s AI gateway reads it, never a task Job.');

export const aiProviderSpecSchema = withRules(
  z.strictObject({
    type: z.enum(PROVIDER_TYPES)
      .describe('openai, anthropic, openai-compatible (Perplexity, Ollama, vLLM, LiteLLM...) or offline (deterministic answers for demos, no key).'),
    model: text(128, 1).describe('Default model, e.g. gpt-4o, claude-sonnet-4-5, sonar-pro.'),
    baseURL: withRules(text(2048, 1), [{
      rule: `self.matches('${HTTP_URL}')`,
      message: 'must be an http or https URL',
      check: (value) => new RegExp(HTTP_URL).test(value),
    }]).optional().describe('API base URL; required for openai-compatible, overrides the official endpoint otherwise.'),
    secretRef: secretRefSchema.optional(),
    pricing: z.strictObject({
      inputPerMillionTokens: price('USD per million input tokens, a decimal string such as "2.50" (default "0").'),
      outputPerMillionTokens: price('USD per million output tokens, a decimal string such as "10.00" (default "0").'),
    }).prefault({}).describe('Prices in USD as decimal strings (never floats), for metering cost against budgets.'),
    maxConcurrency: z.int().min(1).max(1000).default(4).describe('Most calls in flight to this provider at once (default 4).'),
    timeoutSeconds: z.int().min(1).max(3600).default(120).describe('Timeout of one call in seconds (default 120).'),
  }),
  [
    {
      rule: "self.type != 'openai-compatible' || has(self.baseURL)",
      message: 'baseURL is required for type openai-compatible',
      fieldPath: '.baseURL',
      reason: 'FieldValueRequired',
      check: (s) => s.type !== 'openai-compatible' || s.baseURL !== undefined,
    },
    {
      rule: "self.type == 'offline' || has(self.secretRef)",
      message: 'secretRef is required for every type but offline',
      fieldPath: '.secretRef',
      reason: 'FieldValueRequired',
      check: (s) => s.type === 'offline' || s.secretRef !== undefined,
    },
  ],
).describe('An AI model endpoint the gateway may route tasks to.');


const taskStatsSchema = z.object({
  taskType: z.enum(TASK_TYPES).describe('Task type these figures are for.'),
  samples: z.int().min(0).describe('Calls measured, all time.'),
  weight: z.number().min(0).optional()
    .describe('How much evidence the means below carry: the number of calls they are worth once older calls are discounted (absent: as many as samples).'),
  successRate: z.number().min(0).max(1).describe('Share of calls that produced valid output, 0 to 1, recent calls weighing most.'),
  meanQuality: z.number().min(0).max(1).describe('Mean rubric score of the calls (a failed call scores 0), 0 to 1, recent calls weighing most.'),
  qualityStdDev: z.number().min(0).max(0.5).optional()
    .describe('How much the scores spread around meanQuality (their standard deviation), which says how sure the mean is.'),
  meanLatencyMs: z.number().min(0).describe('Mean latency of a call in milliseconds, recent calls weighing most.'),
  meanCostUsd: usdStatus('Mean cost of a call in USD, a decimal string, recent calls weighing most.'),
  updatedAt: timestamp('When these figures last changed.').optional(),
}).describe('What the learning engine measured for one task type: means that discount older calls, so they follow a provider that changes.');

export const aiProviderStatusSchema = z.object({
  observedGeneration: observedGeneration().optional(),
  conditions: conditionsSchema.optional(),
  stats: z.array(taskStatsSchema).max(TASK_TYPES.length).optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['taskType'] })
    .describe('Measured quality, cost and latency per task type: the router\'s memory, kept across restarts.'),
}).describe('Observed state of the provider: Ready when its key resolves.');
