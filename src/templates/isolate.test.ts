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

  it('renders side by side on reused workers while one runs away, and replaces the one it stopped', async () => {
    const runaway = renderScaffoldIsolated(input('{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}x{% endfor %}{% endfor %}{% endfor %}'), { timeoutMs: 1500 });
    const others = await Promise.all(Array.from({ length: 12 }, (_, i) => renderScaffoldIsolated(input(`n{{ ${i} }}`))));
    expect(others.map((t) => t.get('f.txt')?.toString())).toEqual(Array.from({ length: 12 }, (_, i) => `n${i}`));
    await expect(runaway).rejects.toThrow(/longer than 1\.5s/);
    const after = await Promise.all(Array.from({ length: 4 }, () => renderScaffoldIsolated(input('ok {{ startup.displayName }}'))));
    expect(after.map((t) => t.get('f.txt')?.toString())).toEqual(['ok Acme', 'ok Acme', 'ok Acme', 'ok Acme']);
  });

  it('keeps the error types: bad parameters and unsafe templates', async () => {
    await expect(renderScaffoldIsolated(input('x', { n: 'two' }, { type: 'object', properties: { n: { type: 'integer' } } })))
      .rejects.toThrow(ParameterError);
    await expect(renderScaffoldIsolated(input('{{ range.constructor("return process")() }}'))).rejects.toThrow(RenderError);
  });
});
