import { describe, expect, it } from 'vitest';
import { validateTemplate } from './validate.ts';

const spec = (extra: Record<string, unknown>) => ({ description: 'a template', framework: 'custom', files: [{ path: 'a.txt', content: 'hi' }], ...extra });

describe('validateTemplate', () => {
  it.each([
    ['a pipeline with a cycle', spec({ pipeline: { tasks: [{ name: 'a', type: 'spec', dependsOn: ['b'] }, { name: 'b', type: 'spec', dependsOn: ['a'] }] } }), 'InvalidSpec', /cycle/],
    ['a file with both content and base64', spec({ files: [{ path: 'a', content: 'x', base64: 'eA==' }] }), 'InvalidSpec', /exactly one of content or base64/],
    ['a schema that does not compile', spec({ parameters: { type: 'object', properties: { a: { minimum: 'x' } } } }), 'InvalidParameterSchema', /does not compile/],
    ['a default that breaks its own schema', spec({ parameters: { type: 'object', properties: { n: { type: 'integer', default: 'one' } } } }), 'InvalidParameterSchema', /parameter "n" must be integer/],
    ['a required parameter with no default or example', spec({ parameters: { type: 'object', required: ['key'], properties: { key: { type: 'string' } } } }), 'InvalidParameterSchema', /parameter "key" is required/],
    ['a file that uses an unknown variable', spec({ files: [{ path: 'a.txt', content: '{{ startup.nickname }}' }] }), 'RenderFailed', /file a\.txt/],
    ['a file with a syntax error', spec({ files: [{ path: 'a.txt', content: '{% if %}' }] }), 'RenderFailed', /file a\.txt/],
  ])('refuses %s with a reason for the Ready condition', async (_what, templateSpec, reason, message) => {
    const result = await validateTemplate({ name: 'mine', spec: templateSpec });
    expect(result).toMatchObject({ ok: false, reason });
    expect(result.ok ? '' : result.message).toMatch(message);
  });

  it('uses a required parameter\'s first example to check the files', async () => {
    const result = await validateTemplate({
      name: 'mine',
      spec: spec({
        parameters: { type: 'object', required: ['key'], properties: { key: { type: 'string', examples: ['abc'] } } },
        files: [{ path: 'a.txt', content: '{{ parameters.key | upper }}' }],
      }),
    });
    expect(result).toEqual({ ok: true, fileCount: 1 });
  });
});
