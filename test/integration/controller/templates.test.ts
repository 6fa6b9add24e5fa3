import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { kubectl, uniqueName, waitForObject } from '../../support/cluster.ts';
import { startFactory, type TestFactory } from '../../support/factory.ts';

let factory: TestFactory;
const broken = uniqueName('tpl-broken');

beforeAll(async () => {
  factory = await startFactory(['--leader-elect', 'false']);
});
afterAll(async () => {
  await kubectl(['delete', 'startuptemplate', broken, '--ignore-not-found', '--wait=false']);
  await factory?.cleanup();
});

type Template = { metadata: { generation: number }; status?: { observedGeneration?: number; fileCount?: number; conditions?: { type: string; status: string; reason: string; message: string }[] } };
const ready = (t: Template) => t.status?.conditions?.find((c) => c.type === 'Ready');

describe('StartupTemplate status', () => {
  it('marks a valid template Ready with its file count', async () => {
    const t = await waitForObject<Template>(['startuptemplate', factory.template], (o) => ready(o)?.status === 'True', 'template Ready', 60_000);
    expect(t.status?.fileCount).toBeGreaterThan(10);
    expect(t.status?.observedGeneration).toBe(t.metadata.generation);
  });

  it('marks a template whose files do not render Ready=False with the reason, until it is fixed', async () => {
    const template = (files: { path: string; content: string }[]) => stringify({
      apiVersion: 'startupfactory.dev/v1alpha1', kind: 'StartupTemplate', metadata: { name: broken },
      spec: { description: 'a template with a broken file', framework: 'none', files },
    });
    expect((await kubectl(['apply', '-f', '-'], { input: template([{ path: 'README.md', content: '# {{ startup.displayName ' }]) })).code).toBe(0);
    const bad = await waitForObject<Template>(['startuptemplate', broken], (o) => ready(o)?.status === 'False', 'template Ready=False', 60_000);
    expect(ready(bad)).toMatchObject({ reason: 'RenderFailed', message: expect.stringContaining('README.md') });
    expect((await kubectl(['apply', '-f', '-'], { input: template([{ path: 'README.md', content: '# {{ startup.displayName }}' }]) })).code).toBe(0);
    const fixed = await waitForObject<Template>(['startuptemplate', broken], (o) => ready(o)?.status === 'True' && o.status?.observedGeneration === 2, 'template Ready again', 60_000);
    expect(fixed.status?.fileCount).toBe(1);
  });
});
