import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskOutput } from '../../src/tasks/schemas.ts';
import { exportedBuiltin } from './offline-pipeline.ts';
import { childEnv, freePort, materialize, run, startServer, stopServer, waitForHttp, type Server } from './process.ts';

/**
 * The web scaffolds are real projects, and so is what the pipeline writes into them: the
 * repository `startup-factory export` writes after an offline pipeline (the rendered
 * scaffold for a realistic startup, the generated pages and routers merged over it, the
 * plan) installs from npm, passes the framework's production build and type check,
 * starts, serves the startup's name on its home page and every generated page.
 */
type Frontend = {
  build: string[][];
  server: (dir: string) => string[];
  env: (port: number, api: string) => Record<string, string>;
  /** The route a generated file is the page of, if it is one. */
  route: (path: string) => string | undefined;
  /** Whether the build renders the route per request (the entries are the API's now), by the build's output. */
  perRequest: (buildOutput: string, route: string) => boolean;
};

const FRONTENDS: Record<'reactnext' | 'vuenuxt', Frontend> = {
  reactnext: {
    // next build type-checks too.
    build: [['next', 'build']],
    // The standalone server is what the scaffold's Dockerfile runs.
    server: (dir) => [join(dir, '.next/standalone/server.js')],
    env: (port, api) => ({ PORT: String(port), HOSTNAME: '127.0.0.1', API_URL: api }),
    route: (path) => /^frontend\/app\/(.+)\/page\.tsx$/.exec(path)?.[1],
    // Its route table marks each route ○ (prerendered at build time) or ƒ (rendered on demand).
    perRequest: (output, route) => output.split('\n').some((line) => line.endsWith(` ƒ ${route}`)),
  },
  vuenuxt: {
    build: [['nuxt', 'build'], ['nuxt', 'typecheck']],
    server: (dir) => [join(dir, '.output/server/index.mjs')],
    env: (port, api) => ({ PORT: String(port), HOST: '127.0.0.1', NUXT_API_URL: api }),
    route: (path) => /^frontend\/app\/pages\/(.+)\.vue$/.exec(path)?.[1],
    // A server-rendered Nuxt app renders every page per request.
    perRequest: () => true,
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

  it('installs, builds, starts and serves the display name and every generated page with HTTP 200', async () => {
    const exportStarted = performance.now();
    const { tree, steps, code, context } = await exportedBuiltin(name);
    const exportSeconds = (performance.now() - exportStarted) / 1000;
    const frontendSpec = FRONTENDS[name];
    const pages = steps.filter((s) => s.type === 'codegen').map((s) => {
      const routes = (s.output as TaskOutput<'codegen'>).files.flatMap((f) => frontendSpec.route(f.path) ?? []);
      expect(routes, s.task).toHaveLength(1);
      return { route: `/${routes[0]}`, item: s.input.task.workItem! };
    });
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(code.items.flatMap((i) => i.files).filter((f) => f.outcome !== 'added')).toEqual([]);

    project = await materialize(tree, name);
    const frontend = join(project, 'frontend');
    const install = await run('npm', ['install', '--no-audit', '--no-fund'], frontend);
    const builds: Awaited<ReturnType<typeof run>>[] = [];
    for (const step of frontendSpec.build) builds.push(await run('npx', ['--no-install', ...step], frontend));
    const buildSeconds = builds.reduce((sum, b) => sum + b.seconds, 0);
    for (const { route } of pages) expect(frontendSpec.perRequest(builds[0]!.output, route), route).toBe(true);
    const port = await freePort();
    // No API runs here: each page must still render, saying it has no entries yet.
    const api = `http://127.0.0.1:${await freePort()}`;
    const started = performance.now();
    server = startServer(process.execPath, frontendSpec.server(frontend), frontend, childEnv(frontendSpec.env(port, api)));
    const home = await waitForHttp(`http://127.0.0.1:${port}/`, server);
    const startSeconds = (performance.now() - started) / 1000;
    console.log(`[scaffold ${name}] export ${exportSeconds.toFixed(2)}s (${pages.length} generated pages), npm install ${install.seconds.toFixed(1)}s, build ${buildSeconds.toFixed(1)}s, first response ${startSeconds.toFixed(1)}s`);

    expect(home.status).toBe(200);
    expect(await home.text()).toContain(escapeHtml(context.startup.displayName));
    const health = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(await health.json()).toEqual({ status: 'ok', service: 'frontend' });
    for (const { route, item } of pages) {
      const page = await fetch(`http://127.0.0.1:${port}${route}`);
      expect(page.status, route).toBe(200);
      const html = await page.text();
      expect(html, route).toContain(`>${escapeHtml(item.title)}</h1>`);
      expect(html, route).toContain(escapeHtml(item.description));
      expect(html, route).toContain('Nothing here yet.');
    }
  });
});
