import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, freePort, materialize, run, startServer, stopServer, waitForHttp, type Server } from './process.ts';
import { renderBuiltin } from './startups.ts';

/**
 * The web scaffolds are real projects: rendered for a realistic startup, they install
 * from npm, pass the framework's production build (type checking included), start, and
 * serve the startup's name on their home page.
 */
const FRONTENDS: Record<'reactnext' | 'vuenuxt', { build: string[]; server: (dir: string) => string[]; env: (port: number) => Record<string, string> }> = {
  reactnext: {
    build: ['next', 'build'],
    // The standalone server is what the scaffold's Dockerfile runs.
    server: (dir) => [join(dir, '.next/standalone/server.js')],
    env: (port) => ({ PORT: String(port), HOSTNAME: '127.0.0.1' }),
  },
  vuenuxt: {
    build: ['nuxt', 'build'],
    server: (dir) => [join(dir, '.output/server/index.mjs')],
    env: (port) => ({ PORT: String(port), HOST: '127.0.0.1' }),
  },
};

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

describe.each(Object.keys(FRONTENDS) as (keyof typeof FRONTENDS)[])('%s frontend', (name) => {
  let server: Server | undefined;
  let project: string | undefined;
  afterAll(async () => {
    await stopServer(server);
    if (project) await rm(dirname(project), { recursive: true, force: true });
  });

  it('installs, builds, starts and serves the display name with HTTP 200', async () => {
    const renderStarted = performance.now();
    const { tree, context } = await renderBuiltin(name);
    const renderSeconds = (performance.now() - renderStarted) / 1000;
    project = await materialize(tree, name);
    const frontend = join(project, 'frontend');
    const frontendSpec = FRONTENDS[name];

    const installSeconds = await run('npm', ['install', '--no-audit', '--no-fund'], frontend);
    const buildSeconds = await run('npx', ['--no-install', ...frontendSpec.build], frontend);
    const port = await freePort();
    const started = performance.now();
    server = startServer(process.execPath, frontendSpec.server(frontend), frontend, childEnv(frontendSpec.env(port)));
    const home = await waitForHttp(`http://127.0.0.1:${port}/`, server);
    const startSeconds = (performance.now() - started) / 1000;
    console.log(`[scaffold ${name}] render ${renderSeconds.toFixed(2)}s, npm install ${installSeconds.toFixed(1)}s, build ${buildSeconds.toFixed(1)}s, first response ${startSeconds.toFixed(1)}s`);

    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain(escapeHtml(context.startup.displayName));
    const health = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(await health.json()).toEqual({ status: 'ok', service: 'frontend' });
  });
});
