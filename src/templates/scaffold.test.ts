import { describe, expect, it } from 'vitest';
import { builtinInput } from '../../test/scaffolds/startups.ts';
import { CHUNKS_ANNOTATION, CONTENT_HASH_ANNOTATION, INPUT_HASH_ANNOTATION, renderInputHash, renderScaffold, scaffoldConfigMaps, scaffoldConfigMapsIsolated, treeHash, unpackConfigMaps } from './index.ts';

describe('scaffoldConfigMaps (what the reconciler applies)', () => {
  it('renders, packs and labels, with the content and input hashes on every ConfigMap', async () => {
    const input = await builtinInput('vuenuxt');
    const labels = { 'app.kubernetes.io/managed-by': 'startup-factory', 'startupfactory.dev/startup': input.name };
    const configMaps = scaffoldConfigMaps(input, labels);
    expect(await scaffoldConfigMapsIsolated(input, labels)).toEqual(configMaps);
    const tree = renderScaffold(input);
    expect(unpackConfigMaps(configMaps)).toEqual(tree);
    for (const cm of configMaps) {
      expect(cm.metadata.namespace).toBe('startup-greenleaf');
      expect(cm.metadata.labels).toMatchObject(labels);
      expect(cm.metadata.annotations).toMatchObject({ [CONTENT_HASH_ANNOTATION]: treeHash(tree), [INPUT_HASH_ANNOTATION]: renderInputHash(input) });
    }
    // The manifest says how many chunks it lists, for a cache that holds metadata alone.
    expect(configMaps[0]!.metadata.annotations?.[CHUNKS_ANNOTATION]).toBe(String(configMaps.length - 1));
    expect(configMaps.slice(1).every((cm) => cm.metadata.annotations?.[CHUNKS_ANNOTATION] === undefined)).toBe(true);
  });

  it('changes the input hash with spec.values, the allocation or the template, and only then', async () => {
    const input = await builtinInput('reactnext');
    const hash = renderInputHash(input);
    expect(renderInputHash(structuredClone(input))).toBe(hash);
    expect(renderInputHash({ ...input, spec: { ...input.spec, values: { ...input.spec.values, primaryColor: '#000000' } } })).not.toBe(hash);
    expect(renderInputHash({ ...input, allocation: { databaseName: 'other' } })).not.toBe(hash);
    const files = input.template.spec.files.map((f) => (f.path === 'README.md' ? { ...f, content: `${f.content}!` } : f));
    expect(renderInputHash({ ...input, template: { ...input.template, spec: { ...input.template.spec, files } } })).not.toBe(hash);
    // A priority change does not touch the scaffold.
    expect(renderInputHash({ ...input, spec: { ...input.spec, priority: 7 } })).toBe(hash);
  });
});
