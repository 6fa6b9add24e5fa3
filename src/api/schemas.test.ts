import { describe, expect, it } from 'vitest';
import { characterCount } from './common.ts';
import {
  aiProviderSpecSchema, findCycle, startupSpecSchema, startupStatusSchema, startupTemplateSpecSchema,
} from './index.ts';

/** `path: message` of every issue, so a test reads like the error a user sees. */
function issues(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): string[] {
  return (result.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
}

/** Table rows as named fields, so test titles show the expected message rather than a huge input. */
const cases = (rows: [Record<string, unknown>, string][]) => rows.map(([input, expected]) => ({ input, expected }));

const minimalStartup = { displayName: 'PayFlow', template: 'reactnext' };

describe('startupSpecSchema', () => {
  it('fills in every default of DESIGN.md §2', () => {
    expect(startupSpecSchema.parse(minimalStartup)).toEqual({
      displayName: 'PayFlow',
      template: 'reactnext',
      resources: { memory: '512Mi', cpu: '500m', storage: '2Gi' },
      expose: 'ClusterIP',
      ai: { routing: 'Learned', quota: { callsPerHour: 1000, costPerDay: '15.00' } },
      suspend: false,
      priority: 0,
    });
  });

  it('counts characters as the API server does, not UTF-16 units: 63 emoji are a valid displayName, 64 are not', () => {
    expect(startupSpecSchema.safeParse({ ...minimalStartup, displayName: '🚀'.repeat(63) }).success).toBe(true);
    expect(issues(startupSpecSchema.safeParse({ ...minimalStartup, displayName: '🚀'.repeat(64) }))).toEqual(['displayName: must be 1 to 63 characters']);
    expect(issues(startupSpecSchema.safeParse({ ...minimalStartup, idea: '中'.repeat(4001) }))).toEqual(['idea: must be at most 4000 characters']);
    expect(startupSpecSchema.safeParse({ ...minimalStartup, founder: { name: '👩🏽‍💻'.repeat(32), skills: ['𝔭𝔞𝔶𝔪𝔢𝔫𝔱𝔰'] } }).success).toBe(true);
  });

  it('refuses a quantity written out past 32 characters, as the CRD does', () => {
    expect(issues(startupSpecSchema.safeParse({ ...minimalStartup, resources: { memory: `${'0'.repeat(30)}1Gi` } }))).toEqual([
      expect.stringMatching(/^resources\.memory: /),
    ]);
  });

  it('takes integer quantities and hands them out as strings', () => {
    expect(startupSpecSchema.parse({ ...minimalStartup, resources: { cpu: 2 } }).resources).toEqual({ memory: '512Mi', cpu: '2', storage: '2Gi' });
  });

  it('accepts a realistic fintech startup', () => {
    const spec = startupSpecSchema.parse({
      ...minimalStartup,
      industry: 'fintech',
      category: 'payments',
      idea: 'Instant cross-border payouts for freelancers.',
      values: { brandColor: '#0a7' },
      founder: { name: 'Ada', skills: ['full-stack development'], experience: '10 years', goals: 'profitable in a year' },
      services: [{ name: 'frontend', port: 3000 }, { name: 'api', port: 8000 }, { name: 'db', port: 5432 }],
      expose: 'NodePort',
      ai: { providers: ['openai', 'anthropic'], quota: { callsPerHour: 50, costPerDay: '2.5' } },
      pipeline: { tasks: [{ name: 'research', type: 'research' }, { name: 'spec', type: 'spec', dependsOn: ['research'] }] },
      priority: 10,
    });
    expect(spec.pipeline?.tasks[0]?.dependsOn).toEqual([]);
    expect(spec.founder?.skills).toEqual(['full-stack development']);
  });

  it.each(cases([
    [{ displayName: '' }, 'displayName'],
    [{ displayName: 'x'.repeat(64) }, 'displayName'],
    [{ template: 'Not_A_Name' }, 'template'],
    [{ idea: 'x'.repeat(4001) }, 'idea'],
    [{ resources: { memory: '0' } }, 'resources.memory: must be a positive Kubernetes quantity'],
    [{ resources: { cpu: '-1' } }, 'resources.cpu'],
    [{ resources: { storage: 'lots' } }, 'resources.storage'],
    [{ ai: { quota: { costPerDay: '-1.00' } } }, 'ai.quota.costPerDay: must be a non-negative decimal'],
    [{ ai: { quota: { costPerDay: '1e3' } } }, 'ai.quota.costPerDay'],
    [{ ai: { quota: { callsPerHour: -1 } } }, 'ai.quota.callsPerHour'],
    [{ expose: 'LoadBalancer' }, 'expose'],
    [{ priority: 1.5 }, 'priority'],
    [{ services: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }, 'services: service ports must be unique'],
    [{ services: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] }, 'services: service names must be unique'],
    [{ services: [{ name: 'api', port: 70000 }] }, 'services.0.port'],
    [{ services: [{ name: '1api', port: 80 }] }, 'services.0.name'],
    [{ unknownField: true }, 'unknownField'],
    // A list of type set: the API server refuses a repeated item as a Duplicate value.
    [{ ai: { providers: ['openai', 'anthropic', 'openai'] } }, 'ai.providers: must not name a provider twice'],
  ]))('refuses a bad value, naming $expected', ({ input, expected }) => {
    const messages = issues(startupSpecSchema.safeParse({ ...minimalStartup, ...input }));
    expect(messages.join('\n')).toContain(expected);
  });
});

describe('pipelineSchema (through the Startup spec)', () => {
  const withTasks = (tasks: unknown[]) => issues(startupSpecSchema.safeParse({ ...minimalStartup, pipeline: { tasks } })).join('\n');

  it('refuses unknown dependencies, self-dependencies, duplicates, cycles and a forEach outside dependsOn', () => {
    expect(withTasks([{ name: 'a', type: 'spec', dependsOn: ['ghost'] }])).toContain('pipeline.tasks: every dependsOn must name a task');
    expect(withTasks([{ name: 'a', type: 'spec', dependsOn: ['a'] }])).toContain('pipeline.tasks.0.dependsOn: a task cannot depend on itself');
    expect(withTasks([{ name: 'a', type: 'spec' }, { name: 'a', type: 'review' }])).toContain('task names must be unique');
    expect(withTasks([{ name: 'a', type: 'spec', dependsOn: ['b'] }, { name: 'b', type: 'spec', dependsOn: ['a'] }])).toContain('must not form a cycle');
    expect(withTasks([{ name: 'd', type: 'decompose' }, { name: 'c', type: 'codegen', forEach: 'd' }])).toContain('forEach must name a task listed in dependsOn');
    expect(withTasks([{ name: 'a', type: 'deploy' }])).toContain('pipeline.tasks.0.type');
    expect(withTasks([])).toContain('pipeline.tasks');
    expect(withTasks([{ name: 'a', type: 'spec' }, { name: 'b', type: 'spec', dependsOn: ['a', 'a'] }])).toContain('pipeline.tasks.1.dependsOn: must not name a task twice');
  });

  it('accepts a fan-out over a dependency', () => {
    expect(withTasks([{ name: 'd', type: 'decompose' }, { name: 'c', type: 'codegen', dependsOn: ['d'], forEach: 'd' }])).toBe('');
  });
});

describe('characterCount', () => {
  it('counts a character outside the BMP once, and a lone surrogate as one', () => {
    expect(characterCount('')).toBe(0);
    expect(characterCount('abc')).toBe(3);
    expect(characterCount('🚀x🚀')).toBe(3);
    expect(characterCount('\ud800x\udc00')).toBe(3);
  });
});

describe('findCycle', () => {
  it('names the tasks along a cycle, or nothing for a DAG', () => {
    expect(findCycle([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['c'] }, { name: 'c', dependsOn: ['a'] }])).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle([{ name: 'a', dependsOn: [] }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['a', 'b'] }])).toBeUndefined();
  });
});

describe('startupTemplateSpecSchema', () => {
  const template = { description: 'Next.js + FastAPI + PostgreSQL', framework: 'nextjs' };

  it('accepts text and binary files and keeps the parameter schema as written', () => {
    const parameters = { type: 'object', properties: { brandColor: { type: 'string', default: '#000' } } };
    const spec = startupTemplateSpecSchema.parse({
      ...template, parameters,
      files: [{ path: 'README.md', content: '# {{ displayName }}' }, { path: 'public/favicon.ico', base64: 'AAABAA==' }],
    });
    expect(spec.parameters).toEqual(parameters);
    expect(spec.files).toHaveLength(2);
  });

  it.each(cases([
    [{ path: 'a.txt' }, 'files.0: exactly one of content or base64'],
    [{ path: 'a.txt', content: 'x', base64: 'AA==' }, 'files.0: exactly one of content or base64'],
    [{ path: '../etc/passwd', content: 'x' }, 'files.0.path'],
    [{ path: 'a/./b', content: 'x' }, 'files.0.path: must not contain . or .. segments'],
    [{ path: '/abs', content: 'x' }, 'files.0.path'],
    [{ path: 'a//b', content: 'x' }, 'files.0.path'],
    [{ path: 'a\\b', content: 'x' }, 'files.0.path'],
    [{ path: 'bin', base64: 'not base64!' }, 'files.0.base64'],
  ]))('refuses a bad file, naming $expected', ({ input, expected }) => {
    expect(issues(startupTemplateSpecSchema.safeParse({ ...template, files: [input] })).join('\n')).toContain(expected);
  });

  it('refuses two files at one path, as the API server refuses a repeated key of the files map', () => {
    const files = [{ path: 'README.md', content: 'a' }, { path: 'README.md', content: 'b' }];
    expect(issues(startupTemplateSpecSchema.safeParse({ ...template, files }))).toEqual(['files: file paths must be unique']);
  });

  it('allows dotfiles and bracketed route segments', () => {
    const files = [{ path: 'web/.gitignore', content: 'node_modules' }, { path: 'web/app/[id]/page.tsx', content: '' }];
    expect(startupTemplateSpecSchema.safeParse({ ...template, files }).success).toBe(true);
  });
});

describe('aiProviderSpecSchema', () => {
  it('fills in pricing, concurrency, timeout and the secret key', () => {
    expect(aiProviderSpecSchema.parse({ type: 'openai', model: 'gpt-4o', secretRef: { name: 'openai' } })).toEqual({
      type: 'openai', model: 'gpt-4o', secretRef: { name: 'openai', key: 'api-key' },
      pricing: { inputPerMillionTokens: '0', outputPerMillionTokens: '0' }, maxConcurrency: 4, timeoutSeconds: 120,
    });
  });

  // Each verdict is the API server's too (the CRD's CEL rule is the same expression).
  const withBaseURL = (baseURL: string) => aiProviderSpecSchema.safeParse({ type: 'openai-compatible', model: 'm', baseURL, secretRef: { name: 'k' } }).success;
  it.each([
    'https://api.perplexity.ai', 'http://ollama.ollama.svc:11434/v1', 'https://x.openai.azure.com/openai?api-version=2024-02-01',
    'http://127.0.0.1:9/v1', 'http://[::1]:8080/v1', 'HTTP://EXAMPLE.COM', 'http://user:pw@host', 'http://a_b:65535/%41',
  ])('takes the base URL %s', (url) => {
    expect(withBaseURL(url)).toBe(true);
  });
  it.each([
    'http://', 'https://', 'https:/api.example.com', 'http:api.example.com', 'http:///v1', 'http://:8080', 'http://api.example.com:65536',
    'https://api.example.com/v1#models', 'http://api.example.com/%zz', 'http://api.example.com/a b', 'http://éxample.com', 'http://exa{mple}.com',
    'http://api.example.com\n', '//api.example.com', 'ftp://api.example.com',
  ])('refuses the base URL %j: no host, a port past 65535, a fragment, a bad escape or character', (url) => {
    expect(withBaseURL(url)).toBe(false);
  });

  it('needs no key for offline', () => {
    expect(aiProviderSpecSchema.safeParse({ type: 'offline', model: 'offline' }).success).toBe(true);
  });

  it.each(cases([
    [{ type: 'openai-compatible', model: 'sonar', secretRef: { name: 'pplx' } }, 'baseURL: baseURL is required for type openai-compatible'],
    [{ type: 'anthropic', model: 'claude' }, 'secretRef: secretRef is required'],
    [{ type: 'openai', model: 'x', secretRef: { name: 'k' }, baseURL: 'ftp://x' }, 'baseURL: must be an http or https URL'],
    [{ type: 'gemini', model: 'x' }, 'type'],
    [{ type: 'offline', model: 'x', timeoutSeconds: 0 }, 'timeoutSeconds'],
    [{ type: 'offline', model: 'x', pricing: { inputPerMillionTokens: '-1' } }, 'pricing.inputPerMillionTokens: must be a non-negative decimal amount of USD'],
    [{ type: 'offline', model: 'x', pricing: { outputPerMillionTokens: 2.5 } }, 'pricing.outputPerMillionTokens'],
  ]))('refuses a bad spec, naming $expected', ({ input, expected }) => {
    expect(issues(aiProviderSpecSchema.safeParse(input)).join('\n')).toContain(expected);
  });
});

describe('startupStatusSchema', () => {
  it('accepts a status as the operator writes it, with no defaults added', () => {
    const status = {
      phase: 'Running',
      observedGeneration: 3,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Provisioned', message: '', lastTransitionTime: '2026-11-25T10:00:00Z' }],
      namespace: 'startup-payflow',
      allocation: { namespace: 'startup-payflow', services: [{ name: 'frontend', port: 3000, nodePort: 30001 }], nodePorts: [30001], databaseName: 'payflow' },
      tasks: [{ name: 'market-research', type: 'research', phase: 'Succeeded', attempts: 1, usage: { calls: 2, costUsd: '0.010000' } }],
      usage: { callsThisHour: 2, costTodayUsd: '0.010000', totalCostUsd: '0.010000' },
      progress: '1/9',
    };
    expect(startupStatusSchema.parse(status)).toEqual(status);
  });
});
