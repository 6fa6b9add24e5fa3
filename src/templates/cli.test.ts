import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

const CLI = new URL('../../bin/startup-factory.js', import.meta.url).pathname;
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-cli-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A user-supplied template directory with one file whose content is given. */
function userTemplate(files: Record<string, string>, extra = ''): string {
  const dir = join(tmp(), 'mine');
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, 'template.yaml'), `name: mine\ndescription: a user template\nframework: custom\n${extra}`);
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, 'files', path), content);
  return dir;
}

function expectOneLineError(r: ReturnType<typeof cli>, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
}

describe('startup-factory template', () => {
  it('packs a built-in as a StartupTemplate with binary files base64', () => {
    const r = cli('template', 'pack', 'reactnext');
    expect(r.code).toBe(0);
    const obj = YAML.parse(r.stdout);
    expect(obj).toMatchObject({ apiVersion: 'startupfactory.dev/v1alpha1', kind: 'StartupTemplate', metadata: { name: 'reactnext' }, spec: { framework: 'nextjs' } });
    const icon = obj.spec.files.find((f: { path: string }) => f.path === 'frontend/public/icon.png');
    expect(Buffer.from(icon.base64, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(obj.spec.files.find((f: { path: string }) => f.path === 'backend/app/main.py').content).toContain('@app.get("/health")');
  });

  it('refuses a user template whose file tries a sandbox escape, naming file and reason', () => {
    const dir = userTemplate({ 'evil.txt': '{{ range.constructor("return process")().env.HOME }}' });
    expectOneLineError(cli('template', 'validate', dir), /not valid \(RenderFailed\): file evil\.txt: .*constructor/);
  });

  it('refuses a parameter schema that does not compile', () => {
    const dir = userTemplate({ 'a.txt': 'x' }, 'parameters:\n  type: object\n  properties:\n    a: { type: nope }\n');
    expectOneLineError(cli('template', 'validate', dir), /InvalidParameterSchema/);
  });

  it('validates a good user template', () => {
    const dir = userTemplate({ 'hello.txt': 'Hello {{ startup.displayName }}' });
    const r = cli('template', 'validate', dir);
    expect(r.stdout).toBe('template mine is valid: 1 files\n');
  });
});

describe('startup-factory render', () => {
  it('renders a user template with values from a file and --set, values staying text', () => {
    const dir = userTemplate({ 'hello.txt': '{{ startup.displayName }} / {{ parameters.greeting }} / {{ parameters.n }}' },
      'parameters:\n  type: object\n  properties:\n    greeting: { type: string }\n    n: { type: integer, default: 1 }\n');
    const values = join(tmp(), 'values.yaml');
    writeFileSync(values, 'greeting: "{{ 7*7 }}"\n');
    const out = join(tmp(), 'out');
    const r = cli('render', '--template', dir, '--values', values, '--set', 'n=3', '--name', 'acme', '--out', out);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'hello.txt'), 'utf8')).toBe('Acme / {{ 7*7 }} / 3');
  });

  it.each([
    [['render', '--template', 'nope-template', '--out', '/tmp/x'], /not a template directory/],
    [['render', '--template', 'reactnext', '--out', '/tmp/x', '--set', 'primaryColor=blue'], /parameter "primaryColor" must match pattern/],
    [['render', '--template', 'reactnext', '--out', '/tmp/x', '--set', 'colour=blue'], /parameter "colour" is not a parameter/],
    [['render', '--template', 'reactnext', '--out', '/tmp/x', '--name', 'Not_A_Name'], /--name Not_A_Name/],
    [['render', '--template', 'reactnext'], /usage/],
    [['render', '--bogus'], /Unknown option/],
  ])('fails in one line for %j', (args, pattern) => {
    expectOneLineError(cli(...args), pattern);
  });

  it('refuses a non-empty output directory', () => {
    const out = tmp();
    writeFileSync(join(out, 'keep.txt'), 'x');
    expectOneLineError(cli('render', '--template', 'fluttermobile', '--out', out), /not empty/);
  });
});
