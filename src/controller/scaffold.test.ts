import { beforeAll, describe, expect, it } from 'vitest';
import { startupSpecSchema, type Startup, type StartupTemplate } from '../api/index.ts';
import { loadTemplateDir, templateDir, toStartupTemplate } from '../templates/load.ts';
import { ScaffoldRenderer, scaffoldCovers, scaffoldCurrent } from './scaffold.ts';

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

  it('expects the input hash its render stamps, a new one only when an input changed', async () => {
    const renderer = new ScaffoldRenderer();
    const s = startup(1);
    const expected = renderer.expected(s, s.spec, template, allocation);
    if (!expected.ok) throw new Error(expected.message);
    const result = await renderer.render(s, s.spec, template, allocation);
    if (!result.ok) throw new Error(result.message);
    for (const cm of result.configMaps) expect(cm.metadata.annotations?.['startupfactory.dev/render-input-hash']).toBe(expected.inputHash);
    expect(renderer.expected(s, s.spec, template, allocation)).toEqual(expected);
    const edited = startup(2, { tagline: 'Payments, simply' });
    expect(renderer.expected(edited, edited.spec, template, allocation)).not.toEqual(expected);
  });

  it('says why there is no scaffold', async () => {
    const renderer = new ScaffoldRenderer();
    const s = startup(1);
    expect(await renderer.render(s, s.spec, undefined, allocation)).toMatchObject({ ok: false, reason: 'TemplateNotFound' });
    const bad = startup(3, { primaryColor: 'red' });
    expect(await renderer.render(bad, bad.spec, template, allocation)).toMatchObject({ ok: false, reason: 'InvalidValues', message: expect.stringContaining('primaryColor') });
  });
});

describe('scaffoldCurrent and scaffoldCovers (the cache holds metadata only)', () => {
  const OURS = 'startup-factory';
  const cm = (name: string, annotations: Record<string, string>, managers: { manager: string; fields: string[] }[] = [{ manager: OURS, fields: ['f:data', 'f:metadata'] }]) => ({
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: {
      name, namespace: 'startup-payflow', annotations,
      managedFields: managers.map((m) => ({ manager: m.manager, operation: 'Apply', fieldsV1: Object.fromEntries(m.fields.map((f) => [f, {}])) })),
    },
  });
  const hashes = { 'startupfactory.dev/render-input-hash': 'in-1', 'startupfactory.dev/content-hash': 'c-1' };
  const whole = () => [cm('scaffold-manifest', { ...hashes, 'startupfactory.dev/chunks': '2' }), cm('scaffold-0', hashes), cm('scaffold-1', hashes)];

  it('is current when the manifest and every chunk it counts carry the inputs\' hash and one content hash', () => {
    expect(scaffoldCurrent(whole(), 'in-1', OURS)).toEqual({ current: true, chunks: 2 });
  });

  it('is not when an input changed, a chunk is missing or left over, hashes disagree, or someone else wrote the data', () => {
    expect(scaffoldCurrent(whole(), 'in-2', OURS)).toEqual({ current: false });
    expect(scaffoldCurrent(whole().slice(0, 2), 'in-1', OURS)).toEqual({ current: false });
    expect(scaffoldCurrent([...whole(), cm('scaffold-2', hashes)], 'in-1', OURS)).toEqual({ current: false });
    const torn = whole();
    torn[2] = cm('scaffold-1', { ...hashes, 'startupfactory.dev/content-hash': 'c-0' });
    expect(scaffoldCurrent(torn, 'in-1', OURS)).toEqual({ current: false });
    const edited = whole();
    edited[1] = cm('scaffold-0', hashes, [{ manager: OURS, fields: ['f:data', 'f:metadata'] }, { manager: 'kubectl-edit', fields: ['f:data'] }]);
    expect(scaffoldCurrent(edited, 'in-1', OURS)).toEqual({ current: false });
    // Someone else's label is theirs to add: it does not make the scaffold stale.
    const labelled = whole();
    labelled[1] = cm('scaffold-0', hashes, [{ manager: OURS, fields: ['f:data', 'f:metadata'] }, { manager: 'kubectl-label', fields: ['f:metadata'] }]);
    expect(scaffoldCurrent(labelled, 'in-1', OURS)).toEqual({ current: true, chunks: 2 });
    expect(scaffoldCurrent([], 'in-1', OURS)).toEqual({ current: false });
  });

  it('covers a desired ConfigMap by its metadata, unless another manager wrote its data', () => {
    const desired = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'scaffold-0', namespace: 'startup-payflow', annotations: hashes }, data: { 'a.txt': 'x' } };
    expect(scaffoldCovers(cm('scaffold-0', hashes), desired, OURS)).toBe(true);
    expect(scaffoldCovers(cm('scaffold-0', { ...hashes, 'startupfactory.dev/content-hash': 'c-0' }), desired, OURS)).toBe(false);
    expect(scaffoldCovers(cm('scaffold-0', hashes, [{ manager: 'kubectl-client-side-apply', fields: ['f:binaryData'] }]), desired, OURS)).toBe(false);
    expect(scaffoldCovers(undefined, desired, OURS)).toBe(false);
  });
});
