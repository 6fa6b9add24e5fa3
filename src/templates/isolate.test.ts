import { describe, expect, it } from 'vitest';
import { renderBuiltin } from '../../test/scaffolds/startups.ts';
import { renderScaffoldIsolated } from './isolate.ts';
import { ParameterError } from './parameters.ts';
import { RenderError } from './render.ts';

const template = (content: string, parameters?: Record<string, unknown>) => ({
  name: 'user',
  spec: { description: 'x', framework: 'x', files: [{ path: 'f.txt', content }], ...(parameters ? { parameters } : {}) },
});
const input = (content: string, values?: Record<string, unknown>, parameters?: Record<string, unknown>) => ({
  name: 'acme',
  spec: {
    displayName: 'Acme', template: 'user', resources: { memory: '512Mi', cpu: '500m', storage: '2Gi' }, expose: 'ClusterIP' as const,
    ai: { routing: 'Learned' as const, quota: { callsPerHour: 1000, costPerDay: '15.00' } }, suspend: false, priority: 0, ...(values ? { values } : {}),
  },
  template: template(content, parameters),
});

describe('isolated rendering', () => {
  it('renders exactly what the in-process renderer does, binary files included', async () => {
    const { input: builtin, tree } = await renderBuiltin('reactnext');
    expect(await renderScaffoldIsolated(builtin)).toEqual(tree);
  });

  it('stops a template that loops forever, and the process carries on', async () => {
    const runaway = input('{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}x{% endfor %}{% endfor %}{% endfor %}');
    await expect(renderScaffoldIsolated(runaway, { timeoutMs: 1500 })).rejects.toThrow(/longer than 1\.5s/);
    expect((await renderScaffoldIsolated(input('ok {{ startup.displayName }}'))).get('f.txt')?.toString()).toBe('ok Acme');
  });

  it('keeps the error types: bad parameters and unsafe templates', async () => {
    await expect(renderScaffoldIsolated(input('x', { n: 'two' }, { type: 'object', properties: { n: { type: 'integer' } } })))
      .rejects.toThrow(ParameterError);
    await expect(renderScaffoldIsolated(input('{{ range.constructor("return process")() }}'))).rejects.toThrow(RenderError);
  });
});
