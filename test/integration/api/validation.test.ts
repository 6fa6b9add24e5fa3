import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  MAX_PIPELINE_TASKS, MAX_TEMPLATE_FILES, aiProviderSpecSchema, startupSpecSchema, startupTemplateSpecSchema,
} from '../../../src/api/index.ts';
import { kubectl, uniqueName } from '../../support/cluster.ts';

/**
 * Every manifest here is wrong in one way. The API server itself must refuse it (CRD
 * bounds, enums, patterns and CEL rules) with a message naming the field, before any
 * controller sees it.
 */
type Manifest = { kind: 'Startup' | 'StartupTemplate' | 'AIProvider'; spec: Record<string, unknown>; name?: string };

/** The zod twin of each CRD: the operator and the CLI must judge a spec exactly as the API server does. */
const zodSchemas = { Startup: startupSpecSchema, StartupTemplate: startupTemplateSpecSchema, AIProvider: aiProviderSpecSchema };

const validSpecs = {
  Startup: { displayName: 'PayFlow', template: 'reactnext' },
  StartupTemplate: { description: 'Next.js frontend', framework: 'nextjs', files: [{ path: 'README.md', content: '# hi' }] },
  AIProvider: { type: 'openai', model: 'gpt-4o', secretRef: { name: 'openai' } },
};

const fullSpec = ({ kind, spec }: Manifest) => ({ ...validSpecs[kind], ...spec });

function manifest(m: Manifest): string {
  return stringify({
    apiVersion: 'startupfactory.dev/v1alpha1',
    kind: m.kind,
    metadata: { name: m.name ?? uniqueName(m.kind.toLowerCase()) },
    spec: fullSpec(m),
  });
}

const dryRun = (yaml: string) => kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], { input: yaml });

const startup = (spec: Record<string, unknown>): Manifest => ({ kind: 'Startup', spec });
const tasks = (...list: Record<string, unknown>[]) => startup({ pipeline: { tasks: list } });

/** [what is wrong, manifest, text the refusal must contain (the field path, and the rule's message where there is one)] */
const invalid: [string, Manifest, string[]][] = [
  ['empty displayName', startup({ displayName: '' }), ['spec.displayName']],
  ['displayName over 63 characters', startup({ displayName: 'x'.repeat(64) }), ['spec.displayName']],
  ['template missing', startup({ template: undefined }), ['spec.template', 'Required value']],
  ['template not a name', startup({ template: 'Not_A_Template' }), ['spec.template']],
  ['idea over 4000 characters', startup({ idea: 'x'.repeat(4001) }), ['spec.idea']],
  ['zero memory', startup({ resources: { memory: '0' } }), ['spec.resources.memory', 'must be a positive Kubernetes quantity']],
  ['negative cpu', startup({ resources: { cpu: '-1' } }), ['spec.resources.cpu', 'must be a positive Kubernetes quantity']],
  ['storage not a quantity', startup({ resources: { storage: 'lots' } }), ['spec.resources.storage', 'must be a positive Kubernetes quantity']],
  ['negative costPerDay', startup({ ai: { quota: { costPerDay: '-5.00' } } }), ['spec.ai.quota.costPerDay', 'non-negative decimal']],
  ['costPerDay not a decimal', startup({ ai: { quota: { costPerDay: 'ten dollars' } } }), ['spec.ai.quota.costPerDay']],
  ['negative callsPerHour', startup({ ai: { quota: { callsPerHour: -1 } } }), ['spec.ai.quota.callsPerHour']],
  ['unknown expose', startup({ expose: 'LoadBalancer' }), ['spec.expose', 'Unsupported value']],
  ['duplicate service ports', startup({ services: [{ name: 'web', port: 80 }, { name: 'api', port: 80 }] }), ['spec.services', 'service ports must be unique']],
  ['duplicate service names', startup({ services: [{ name: 'web', port: 80 }, { name: 'web', port: 81 }] }), ['spec.services', 'service names must be unique']],
  ['service port out of range', startup({ services: [{ name: 'web', port: 70000 }] }), ['spec.services[0].port']],
  ['priority out of range', startup({ priority: 10_000_000 }), ['spec.priority']],
  ['unknown task type', tasks({ name: 'a', type: 'deploy' }), ['spec.pipeline.tasks[0].type']],
  ['dependsOn naming no task', tasks({ name: 'a', type: 'spec', dependsOn: ['ghost'] }), ['spec.pipeline.tasks', 'every dependsOn must name a task']],
  ['task depending on itself', tasks({ name: 'a', type: 'spec', dependsOn: ['a'] }), ['spec.pipeline.tasks[0].dependsOn', 'cannot depend on itself']],
  ['forEach outside dependsOn', tasks({ name: 'd', type: 'decompose' }, { name: 'c', type: 'codegen', forEach: 'd' }), ['spec.pipeline.tasks[1].forEach']],
  ['unknown field', startup({ colour: 'blue' }), ['spec.colour']],
  ['name too long for a namespace', { kind: 'Startup', spec: {}, name: `a${'b'.repeat(55)}` }, ['metadata.name must be a lowercase RFC 1123 label']],
  ['openai-compatible without baseURL', { kind: 'AIProvider', spec: { type: 'openai-compatible' } }, ['spec.baseURL', 'baseURL is required']],
  ['anthropic without secretRef', { kind: 'AIProvider', spec: { type: 'anthropic', secretRef: undefined } }, ['spec.secretRef', 'secretRef is required']],
  ['baseURL not http', { kind: 'AIProvider', spec: { baseURL: 'ftp://models.example.com' } }, ['spec.baseURL', 'http or https URL']],
  ['unknown provider type', { kind: 'AIProvider', spec: { type: 'gemini' } }, ['spec.type']],
  ['zero timeout', { kind: 'AIProvider', spec: { timeoutSeconds: 0 } }, ['spec.timeoutSeconds']],
  ['negative price', { kind: 'AIProvider', spec: { pricing: { inputPerMillionTokens: '-1' } } }, ['spec.pricing.inputPerMillionTokens', 'non-negative decimal amount of USD']],
  ['price as a float', { kind: 'AIProvider', spec: { pricing: { outputPerMillionTokens: 2.5 } } }, ['spec.pricing.outputPerMillionTokens']],
  ['file with content and base64', { kind: 'StartupTemplate', spec: { files: [{ path: 'a', content: 'x', base64: 'AA==' }] } }, ['spec.files[0]', 'exactly one of content or base64']],
  ['file with neither', { kind: 'StartupTemplate', spec: { files: [{ path: 'a' }] } }, ['spec.files[0]', 'exactly one of content or base64']],
  ['file escaping the tree', { kind: 'StartupTemplate', spec: { files: [{ path: 'src/../../etc/passwd', content: 'x' }] } }, ['spec.files[0].path', 'must not contain . or .. segments']],
  ['absolute file path', { kind: 'StartupTemplate', spec: { files: [{ path: '/etc/passwd', content: 'x' }] } }, ['spec.files[0].path']],
  ['framework in capitals', { kind: 'StartupTemplate', spec: { framework: 'NextJS' } }, ['spec.framework']],
];

describe('the API server refuses invalid manifests, naming the field', () => {
  it.each(invalid)('%s', async (_what, bad, expected) => {
    const { code, stderr } = await dryRun(manifest(bad));
    expect(code).not.toBe(0);
    for (const text of expected) expect(stderr).toContain(text);
    // zod sees only the spec (metadata.name is the API server's alone).
    if (expected[0]!.startsWith('spec.')) expect(zodSchemas[bad.kind].safeParse(JSON.parse(JSON.stringify(fullSpec(bad)))).success).toBe(false);
  });
});

describe('the API server accepts valid manifests and fills in the same defaults as zod', () => {
  it('a minimal Startup gets resources, quota, routing, expose, suspend and priority', async () => {
    const { code, stdout, stderr } = await dryRun(manifest(startup({})));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const served = JSON.parse(stdout).spec;
    expect(startupSpecSchema.parse(validSpecs.Startup)).toEqual(served);
    expect(served).toEqual({
      displayName: 'PayFlow',
      template: 'reactnext',
      resources: { memory: '512Mi', cpu: '500m', storage: '2Gi' },
      ai: { routing: 'Learned', quota: { callsPerHour: 1000, costPerDay: '15.00' } },
      expose: 'ClusterIP',
      suspend: false,
      priority: 0,
    });
  });

  it('a realistic fintech Startup keeps what it says, integer quantities included', async () => {
    const spec = {
      industry: 'fintech',
      category: 'payments',
      idea: 'Instant payouts for freelancers.',
      values: { brandColor: '#0a7', nested: { anything: [1, 2] } },
      founder: { name: 'Ada', skills: ['full-stack development'], experience: '10 years', goals: 'profit' },
      resources: { memory: '1Gi', cpu: 1 },
      services: [{ name: 'frontend', port: 3000 }, { name: 'api', port: 8000 }, { name: 'db', port: 5432 }],
      expose: 'NodePort',
      ai: { providers: ['openai'], quota: { callsPerHour: 10, costPerDay: '2.50' } },
      pipeline: { tasks: [{ name: 'decompose', type: 'decompose' }, { name: 'codegen', type: 'codegen', dependsOn: ['decompose'], forEach: 'decompose' }] },
    };
    const { code, stdout, stderr } = await dryRun(manifest(startup(spec)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(startupSpecSchema.safeParse(fullSpec(startup(spec))).success).toBe(true);
    const applied = JSON.parse(stdout).spec;
    expect(applied).toMatchObject({ ...spec, resources: { memory: '1Gi', cpu: 1, storage: '2Gi' } });
    expect(applied.pipeline.tasks[0].dependsOn).toEqual([]);
  });

  it('an AIProvider gets pricing, concurrency, timeout and the secret key', async () => {
    const { code, stdout, stderr } = await dryRun(manifest({ kind: 'AIProvider', spec: {} }));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const served = JSON.parse(stdout).spec;
    expect(aiProviderSpecSchema.parse(validSpecs.AIProvider)).toEqual(served);
    expect(served).toEqual({
      type: 'openai', model: 'gpt-4o', secretRef: { name: 'openai', key: 'api-key' },
      pricing: { inputPerMillionTokens: '0', outputPerMillionTokens: '0' }, maxConcurrency: 4, timeoutSeconds: 120,
    });
  });

  it('an offline AIProvider needs no key, and an openai-compatible one takes a baseURL', async () => {
    const offline: Manifest = { kind: 'AIProvider', spec: { type: 'offline', model: 'offline', secretRef: undefined } };
    const compatible: Manifest = { kind: 'AIProvider', spec: { type: 'openai-compatible', model: 'sonar-pro', baseURL: 'https://api.perplexity.ai' } };
    for (const m of [offline, compatible]) {
      expect((await dryRun(manifest(m))).stderr).toBe('');
      expect(aiProviderSpecSchema.safeParse(JSON.parse(JSON.stringify(fullSpec(m)))).success).toBe(true);
    }
  });

  it('a StartupTemplate keeps its parameter schema as written and takes binary files', async () => {
    const parameters = { type: 'object', properties: { brandColor: { type: 'string', default: '#000000' } }, required: ['brandColor'] };
    const files = [{ path: 'web/.gitignore', content: 'node_modules\n' }, { path: 'web/public/favicon.ico', base64: 'AAABAAEAEBA=' }];
    const template: Manifest = { kind: 'StartupTemplate', spec: { parameters, files } };
    expect(startupTemplateSpecSchema.safeParse(fullSpec(template)).success).toBe(true);
    const { code, stdout, stderr } = await dryRun(manifest(template));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).spec).toMatchObject({ parameters, files });
  });
});

describe('CEL rules stay within the runtime cost budget at the schema\'s bounds', () => {
  it('the largest pipeline: every task with the most dependencies, the longest names', async () => {
    const name = (i: number) => `t${String(i).padStart(2, '0')}-${'x'.repeat(44)}`;
    const pipeline = {
      tasks: Array.from({ length: MAX_PIPELINE_TASKS }, (_, i) => ({
        name: name(i), type: 'codegen', dependsOn: Array.from({ length: Math.min(i, 16) }, (_, j) => name(i - 1 - j)),
      })),
    };
    const { code, stderr } = await dryRun(manifest(startup({ pipeline })));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('the most template files', async () => {
    const files = Array.from({ length: MAX_TEMPLATE_FILES }, (_, i) => ({ path: `src/deeply/nested/dir/file-${i}.txt`, content: `${i}` }));
    const { code, stderr } = await dryRun(manifest({ kind: 'StartupTemplate', spec: { files } }));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
