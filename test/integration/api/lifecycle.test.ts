import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubectl, uniqueName } from '../../support/cluster.ts';

const created: string[] = [];

async function create(kind: string, spec: Record<string, unknown>): Promise<string> {
  const name = uniqueName(kind.toLowerCase());
  const yaml = stringify({ apiVersion: 'startupfactory.dev/v1alpha1', kind, metadata: { name }, spec });
  const { code, stderr } = await kubectl(['create', '-f', '-'], { input: yaml });
  expect(stderr).toBe('');
  expect(code).toBe(0);
  created.push(`${kind.toLowerCase()}/${name}`);
  return name;
}

/** `kubectl explain` reads the OpenAPI v3 document, which the API server publishes a moment after the CRD is established. */
async function explain(path: string): Promise<string> {
  let last = '';
  for (let attempt = 0; attempt < 30; attempt++) {
    const { code, stdout, stderr } = await kubectl(['explain', path]);
    // Descriptions come back wrapped at 80 columns.
    if (code === 0) return stdout.replace(/\s+/g, ' ');
    last = stderr;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`kubectl explain ${path} failed: ${last}`);
}

afterAll(async () => {
  if (created.length) await kubectl(['delete', '--ignore-not-found', '--wait=false', ...created]);
});

describe('CRDs', () => {
  it('are established, cluster-scoped, in the startupfactory category', async () => {
    for (const crd of ['startups', 'startuptemplates', 'aiproviders']) {
      const { stdout } = await kubectl(['get', 'crd', `${crd}.startupfactory.dev`, '-o', 'jsonpath={.spec.scope} {.status.conditions[?(@.type=="Established")].status}']);
      expect(stdout).toBe('Cluster True');
    }
    const resources = await kubectl(['api-resources', '--api-group=startupfactory.dev', '--categories=startupfactory', '-o', 'name']);
    expect(resources.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'aiproviders.startupfactory.dev', 'startups.startupfactory.dev', 'startuptemplates.startupfactory.dev',
    ]);
  });

  it('kubectl explain startup.spec.resources teaches the field', async () => {
    const text = await explain('startup.spec.resources');
    expect(text).toContain('Resources of the startup as Kubernetes quantities');
    expect(text).toMatch(/memory <(Object|string|IntOrString)>/i);
    expect(text).toContain('requests.memory and limits.memory of its ResourceQuota (default 512Mi)');
    expect(await explain('aiprovider.spec.type')).toContain('openai-compatible');
  });
});

describe('a Startup in the cluster', () => {
  it('shows in kubectl get su with its columns, and refuses a change of template', async () => {
    const name = await create('Startup', { displayName: 'Immutable Inc', template: 'reactnext', industry: 'fintech' });

    const table = await kubectl(['get', 'su', name]);
    expect(table.code).toBe(0);
    const header = table.stdout.split('\n')[0]!.split(/\s{2,}/);
    expect(header).toEqual(expect.arrayContaining(['NAME', 'PHASE', 'TEMPLATE', 'NAMESPACE', 'COST', 'AGE']));
    expect(table.stdout).toContain('reactnext');

    const change = await kubectl(['patch', 'startup', name, '--type=merge', '-p', JSON.stringify({ spec: { template: 'vuenuxt' } })]);
    expect(change.code).not.toBe(0);
    expect(change.stderr).toContain('spec.template');
    expect(change.stderr).toContain('spec.template is immutable');

    const other = await kubectl(['patch', 'startup', name, '--type=merge', '-p', JSON.stringify({ spec: { resources: { memory: '1Gi' } } })]);
    expect(other.stderr).toBe('');
    const { stdout } = await kubectl(['get', 'startup', name, '-o', 'jsonpath={.spec.template} {.spec.resources.memory}']);
    expect(stdout).toBe('reactnext 1Gi');
  });

  it('takes a status through the status subresource only', async () => {
    const name = await create('Startup', { displayName: 'Status Co', template: 'reactnext' });
    const status = { status: { phase: 'Queued', namespace: `startup-${name}`, progress: '2/9', usage: { totalCostUsd: '1.250000' } } };

    await kubectl(['patch', 'startup', name, '--type=merge', '-p', JSON.stringify(status)]);
    expect((await kubectl(['get', 'startup', name, '-o', 'jsonpath={.status.usage.totalCostUsd}'])).stdout).toBe('');

    const viaSubresource = await kubectl(['patch', 'startup', name, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    expect(viaSubresource.stderr).toBe('');
    // An operator running alongside may move the phase on; the cost column is ours alone.
    const table = await kubectl(['get', 'su', name, '--no-headers']);
    expect(table.stdout).toMatch(/\sreactnext\s+startup-\S+\s+2\/9\s+1\.250000\s/);
    const float = await kubectl(['patch', 'startup', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { usage: { totalCostUsd: 1.25 } } })]);
    expect(float.stderr).toMatch(/totalCostUsd/);
  });

  it('kubectl get stpl and aip print their columns', async () => {
    const template = await create('StartupTemplate', { description: 'Tiny demo scaffold', framework: 'nextjs', files: [{ path: 'README.md', content: 'hi' }] });
    const provider = await create('AIProvider', { type: 'offline', model: 'offline-v1' });
    const stpl = await kubectl(['get', 'stpl', template]);
    expect(stpl.stdout.split('\n')[0]).toMatch(/NAME\s+DESCRIPTION\s+FRAMEWORK\s+READY/);
    expect(stpl.stdout).toContain('Tiny demo scaffold');
    const aip = await kubectl(['get', 'aip', provider]);
    expect(aip.stdout.split('\n')[0]).toMatch(/NAME\s+TYPE\s+MODEL\s+READY/);
    expect(aip.stdout).toMatch(/offline\s+offline-v1/);
  });
});
