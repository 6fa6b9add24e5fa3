/**
 * There is no Docker engine on the build machines, so the Dockerfile's rules are checked
 * statically: parsed into stages and instructions and held to the image contract.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

type Instruction = { op: string; args: string };
type Stage = { from: string; name?: string; instructions: Instruction[] };

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  return logical.map((line) => {
    const [op = '', ...rest] = line.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
}

function stages(list: Instruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const result: Stage[] = [];
  for (const ins of list) {
    if (ins.op === 'FROM') {
      const [image = '', as, name] = ins.args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      const from = image.replace(/\$\{?(\w+)\}?/g, (_, v: string) => args.get(v) ?? '');
      result.push({ from, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else if (ins.op === 'ARG' && result.length === 0) {
      const [key = '', value = ''] = ins.args.split('=');
      args.set(key, value);
    } else {
      result.at(-1)?.instructions.push(ins);
    }
  }
  return { args, stages: result };
}

const parsed = stages(instructions(readFileSync(join(root, 'Dockerfile'), 'utf8')));
const final = parsed.stages.at(-1)!;
const builders = parsed.stages.slice(0, -1);
const exec = (ins: Instruction | undefined) => (ins ? (JSON.parse(ins.args) as string[]) : undefined);
const last = (op: string) => final.instructions.filter((i) => i.op === op).at(-1);

/** The user the image runs as: the last USER of its final stage (undefined: the base image's, root). */
function runtimeUser(dockerfile: string): string | undefined {
  return stages(instructions(dockerfile)).stages.at(-1)?.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
}

describe('Dockerfile', () => {
  it('builds in several stages, every one on a pinned Node 24 image', () => {
    expect(builders.length).toBeGreaterThanOrEqual(1);
    for (const stage of parsed.stages) expect(stage.from).toMatch(/^node:24\.\d+\.\d+-(slim|alpine|[a-z]+-slim)(@sha256:[0-9a-f]{64})?$/);
  });

  it('installs production dependencies only, reproducibly, in a build stage', () => {
    const runs = builders.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args));
    expect(runs.some((r) => /\bnpm ci\b/.test(r) && /--omit=dev\b/.test(r))).toBe(true);
    expect(final.instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n')).not.toMatch(/\bnpm (i|install|ci)\b/);
  });

  it('copies only production files into the final image', () => {
    const allowed = new Set(['package.json', 'package-lock.json', 'bin/', 'src/', 'templates/', 'crds/']);
    for (const copy of final.instructions.filter((i) => i.op === 'COPY' || i.op === 'ADD')) {
      expect(copy.op, copy.args).toBe('COPY');
      const parts = copy.args.split(/\s+/);
      const from = parts.find((p) => p.startsWith('--from='));
      const sources = parts.filter((p) => !p.startsWith('--')).slice(0, -1);
      if (from) {
        expect(builders.map((b) => b.name)).toContain(from.slice('--from='.length));
        expect(sources).toEqual(['/app/node_modules']);
      } else {
        for (const source of sources) expect(allowed, source).toContain(source);
      }
    }
    for (const source of allowed) expect(existsSync(join(root, source)), `${source} exists`).toBe(true);
  });

  it('ships sources that import only production dependencies (the image has no dev dependencies)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const production = new Set(Object.keys(pkg.dependencies));
    const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const missing: string[] = [];
    for (const file of sources) {
      const text = readFileSync(join(root, 'src', file), 'utf8');
      // Type-only imports are erased by type stripping: they need nothing at run time.
      const specifiers = [...text.matchAll(/^\s*(?:import|export)(?!\s+type\b)[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\('([^']+)'\)/gm)]
        .map((m) => m[1] ?? m[2] ?? m[3] ?? '');
      // No npm name holds a colon: `node:` builtins, and code the sources generate for other languages (`package:flutter/...`).
      for (const spec of specifiers.filter((s) => !s.startsWith('.') && !s.includes(':'))) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!production.has(name)) missing.push(`${file}: ${spec}`);
      }
    }
    expect(sources.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('runs as a numeric non-root user, the one the Helm chart expects', () => {
    const user = runtimeUser(readFileSync(join(root, 'Dockerfile'), 'utf8'));
    expect(user).toMatch(/^\d+:\d+$/);
    const [uid, gid] = user!.split(':').map(Number) as [number, number];
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    // Read as numbers, not found as text: `runAsUser: 10001` is also a prefix of `runAsUser: 100010`.
    const deployment = readFileSync(join(root, 'charts', 'startup-factory', 'templates', 'deployment.yaml'), 'utf8');
    const field = (name: string) => [...deployment.matchAll(new RegExp(`^\\s*${name}:\\s*(\\S+)\\s*$`, 'gm'))].map((m) => m[1]);
    expect(field('runAsUser')).toEqual([String(uid)]);
    expect(field('runAsGroup')).toEqual([String(gid)]);
    // Set on the pod and again on the container: every one says so.
    expect(field('runAsNonRoot').length).toBeGreaterThan(0);
    expect(new Set(field('runAsNonRoot'))).toEqual(new Set(['true']));
  });

  it('judges the user of the final stage as it runs: the last USER wins, a builder stage\'s does not count', () => {
    const image = (...lines: string[]) => ['FROM node:24.21.0-slim AS deps', 'USER 10001:10001', 'FROM node:24.21.0-slim', ...lines].join('\n');
    expect(runtimeUser(image('USER 10001:10001'))).toBe('10001:10001');
    // Switched back to root after the non-root USER: root is what runs.
    expect(runtimeUser(image('USER 10001:10001', 'RUN true', 'USER root'))).toBe('root');
    expect(runtimeUser(image('USER 10001:10001', 'USER 0'))).toBe('0');
    // Only the builder stage set one: the image runs as the base image's user, root.
    expect(runtimeUser(image('RUN true'))).toBeUndefined();
  });

  it('starts the startup-factory CLI, the operator by default', () => {
    const entrypoint = exec(last('ENTRYPOINT'));
    expect([['startup-factory'], ['node', 'bin/startup-factory.js'], ['node', '/app/bin/startup-factory.js']]).toContainEqual(entrypoint);
    expect(exec(last('CMD'))).toEqual(['operator']);
  });

  it('keeps tests, dependencies and local state out of the build context', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    // An allow-list: everything excluded, then only the production paths let back in.
    expect(ignore).toContain('*');
    expect(ignore.filter((l) => l.startsWith('!')).sort()).toEqual(['!bin/', '!crds/', '!package-lock.json', '!package.json', '!src/', '!templates/']);
    expect(ignore).toContain('**/*.test.ts');
  });
});
