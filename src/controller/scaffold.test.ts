import { beforeAll, describe, expect, it } from 'vitest';
import { startupSpecSchema, type Startup, type StartupTemplate } from '../api/index.ts';
import { loadTemplateDir, templateDir, toStartupTemplate } from '../templates/load.ts';
import { ScaffoldRenderer } from './scaffold.ts';

let template: StartupTemplate;
beforeAll(async () => {
  template = toStartupTemplate(await loadTemplateDir(templateDir('reactnext')));
  template.metadata = { ...template.metadata, uid: 't-uid', generation: 1 };
});

const startup = (generation: number, values?: Record<string, unknown>): Startup => ({
  apiVersion: 'startupfactory.dev/v1alpha1',
  kind: 'Startup',
  metadata: { name: 'payflow', uid: 's-uid', generation },
  spec: startupSpecSchema.parse({ displayName: 'PayFlow', template: 'reactnext', industry: 'fintech', ...(values ? { values } : {}) }),
});
const allocation = { namespace: 'startup-payflow', services: [{ name: 'frontend', port: 3000 }, { name: 'api', port: 8000 }, { name: 'db', port: 5432 }], nodePorts: [], databaseName: 'payflow' };

describe('ScaffoldRenderer', () => {
  it('renders the template into owned, labelled ConfigMaps in the startup namespace', async () => {
    const s = startup(1);
    const result = await new ScaffoldRenderer().render(s, s.spec, template, allocation);
    if (!result.ok) throw new Error(result.message);
    expect(result.configMaps.map((c) => c.metadata.name)).toContain('scaffold-manifest');
    for (const cm of result.configMaps) {
      expect(cm.metadata).toMatchObject({
        namespace: 'startup-payflow',
        labels: { 'app.kubernetes.io/managed-by': 'startup-factory', 'startupfactory.dev/startup': 'payflow', 'startupfactory.dev/scaffold': 'true' },
        ownerReferences: [{ kind: 'Startup', name: 'payflow', uid: 's-uid', controller: true, blockOwnerDeletion: true }],
      });
    }
  });

  it('renders again only when an input changed', async () => {
    const renderer = new ScaffoldRenderer();
    const s = startup(1);
    const first = await renderer.render(s, s.spec, template, allocation);
    expect(await renderer.render(s, s.spec, template, allocation)).toBe(first);
    const edited = startup(2, { tagline: 'Payments, simply' });
    expect(await renderer.render(edited, edited.spec, template, allocation)).not.toBe(first);
  });

  it('says why there is no scaffold', async () => {
    const renderer = new ScaffoldRenderer();
    const s = startup(1);
    expect(await renderer.render(s, s.spec, undefined, allocation)).toMatchObject({ ok: false, reason: 'TemplateNotFound' });
    const bad = startup(3, { primaryColor: 'red' });
    expect(await renderer.render(bad, bad.spec, template, allocation)).toMatchObject({ ok: false, reason: 'InvalidValues', message: expect.stringContaining('primaryColor') });
  });
});
