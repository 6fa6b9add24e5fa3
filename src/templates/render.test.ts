import { describe, expect, it } from 'vitest';
import { renderTree, RenderError, type TemplateFile } from './render.ts';
import { assertSafeTemplate, TemplateSafetyError } from './sandbox.ts';

const render = (files: TemplateFile[], context: object = {}) => renderTree(files, context);
const text = (content: string, context: object = {}) => render([{ path: 'f.txt', content }], context).get('f.txt')?.toString('utf8');

describe('values are data, never template code', () => {
  it('renders a value that looks like template syntax as those characters', () => {
    expect(text('Hello {{ name }}', { name: '{{ 7*7 }}' })).toBe('Hello {{ 7*7 }}');
    expect(text('{{ name }}', { name: '{% for x in range(3) %}x{% endfor %}' })).toBe('{% for x in range(3) %}x{% endfor %}');
    expect(text('{{ name }}', { name: '{{ range.constructor("return process")() }}' })).toBe('{{ range.constructor("return process")() }}');
  });

  it('does not HTML-escape code (autoescape off), so quotes survive in source files', () => {
    expect(text('const title = "{{ name }}";', { name: `O'Brien & <Co>` })).toBe(`const title = "O'Brien & <Co>";`);
  });

  it('evaluates the template\'s own expressions', () => {
    expect(text('{{ 7*7 }} {{ items | join(",") }} {{ name | upper }}', { items: [1, 2], name: 'acme' })).toBe('49 1,2 ACME');
  });

  it('fails on an undefined variable, naming the file', () => {
    expect(() => text('{{ missing }}')).toThrow(/file f\.txt: .*undefined/);
  });
});

describe('sandbox: a user-supplied template file cannot reach JavaScript', () => {
  const escapes = [
    '{{ range.constructor("return process")() }}',
    '{{ cycler.constructor("return process.env")() }}',
    '{{ "".constructor.constructor("return process")() }}',
    '{{ name["constructor"]["constructor"]("return process")() }}',
    '{% set k = "constr" + "uctor" %}{{ range[k][k]("return process")() }}',
    '{{ name.__proto__ }}',
    '{{ constructor.getOwnPropertyNames(range) }}',
    '{{ __lookupGetter__ }}',
    '{{ joiner.prototype }}',
    '{% include "/etc/passwd" %}',
    '{% import "../../secrets" as s %}',
    '{% extends "/etc/hostname" %}',
    '{% from "x" import y %}',
  ];
  it.each(escapes)('refuses %s', (source) => {
    expect(() => assertSafeTemplate(source)).toThrow(TemplateSafetyError);
    expect(() => text(source, { name: 'x' })).toThrow(RenderError);
  });

  it('refuses before running anything: no side effect reaches the process', () => {
    const source = '{{ range.constructor("globalThis.__pwned = 1")() }}';
    expect(() => text(source)).toThrow(/constructor/);
    expect((globalThis as Record<string, unknown>).__pwned).toBeUndefined();
  });

  it('the unchecked nunjucks would have run it (the check is what stops it)', async () => {
    const { default: nunjucks } = await import('nunjucks');
    const env = new nunjucks.Environment([], { autoescape: false });
    expect(env.renderString('{{ range.constructor("return 6*7")() }}', {})).toBe('42');
  });

  it('still allows literal lookups, numeric indexes, loops, filters, macros and conditionals', () => {
    const source = [
      '{% macro svc(s) %}{{ s.name }}:{{ s.port }}{% endmacro %}',
      '{% for s in services %}{{ svc(s) }}{% if not loop.last %},{% endif %}{% endfor %}',
      ' {{ services[0].name }} {{ params["db-name"] }}',
      ' {% for k, v in params %}{{ k }}={{ v }}{% endfor %}',
    ].join('');
    const context = { services: [{ name: 'api', port: 8000 }, { name: 'db', port: 5432 }], params: { 'db-name': 'main' } };
    expect(text(source, context)).toBe('api:8000,db:5432 api main db-name=main');
  });
});

describe('paths', () => {
  it('renders placeholders in paths', () => {
    const tree = render([{ path: '{{ slug }}/README.md', content: '# {{ slug }}' }], { slug: 'acme' });
    expect([...tree.keys()]).toEqual(['acme/README.md']);
  });

  it.each([
    ['absolute', '{{ p }}/x', '/etc'],
    ['parent', '{{ p }}/x', '..'],
    ['nested parent', 'a/{{ p }}/x', '../../..'],
    ['windows drive', '{{ p }}/x', 'C:'],
    ['backslash', '{{ p }}', '..\\..\\x'],
    ['empty segment', 'a/{{ p }}/x', ''],
    ['dot segment', 'a/{{ p }}/x', '.'],
    ['newline', '{{ p }}', 'a\nb'],
  ])('refuses a value that makes the path escape or misbehave (%s)', (_what, path, p) => {
    expect(() => render([{ path, content: 'x' }], { p })).toThrow(RenderError);
  });

  it('refuses two files that render to the same path', () => {
    expect(() => render([{ path: 'a/{{ x }}', content: '1' }, { path: 'a/b', content: '2' }], { x: 'b' })).toThrow(/both render to a\/b/);
  });
});

describe('binary files', () => {
  it('are copied byte for byte, never rendered', () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x7b, 0x7b, 0x20, 0x78, 0x20, 0x7d, 0x7d, 0xff]);
    const tree = render([{ path: 'icon.png', base64: bytes.toString('base64') }], {});
    expect(tree.get('icon.png')?.equals(bytes)).toBe(true);
  });
});
