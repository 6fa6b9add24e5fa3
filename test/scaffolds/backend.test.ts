import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskOutput } from '../../src/tasks/schemas.ts';
import { exportedBuiltin } from './offline-pipeline.ts';
import { childEnv, freePort, materialize, run, startServer, stopServer, waitForHttp, type Server } from './process.ts';

/**
 * The FastAPI backend shared by reactnext and vuenuxt, as exported after an offline
 * pipeline: the scaffold with a router and its tests per work item. It installs from PyPI
 * into a venv, its own tests and the generated ones pass (the routers are mounted by the
 * scaffold, no file of it edited), it serves /health, each generated router's
 * /api/<slug>, and /ready reports the database it was given through DATABASE_URL (typed
 * settings), here one that is down.
 */
describe('FastAPI backend', () => {
  let server: Server | undefined;
  let project: string | undefined;
  afterAll(async () => {
    await stopServer(server);
    if (project) await rm(dirname(project), { recursive: true, force: true });
  });

  it('installs in a venv, passes its tests and the generated ones, and answers /health and every generated router', async () => {
    const { tree, scaffold, steps, context } = await exportedBuiltin('reactnext');
    const routers = steps.filter((s) => s.type === 'codegen').map((s) => {
      const files = (s.output as TaskOutput<'codegen'>).files;
      const router = files.find((f) => f.path.startsWith('backend/app/routes/'))!;
      const test = files.find((f) => f.path.startsWith('backend/tests/'))!;
      return { item: s.input.task.workItem!, test: test.path, prefix: /^router = APIRouter\(prefix="([^"]+)"/m.exec(router.content)![1]! };
    });
    expect(routers.length).toBeGreaterThanOrEqual(3);
    for (const { test } of routers) expect(tree.has(test) && !scaffold.has(test), test).toBe(true);
    expect(tree.get('backend/app/main.py')).toEqual(scaffold.get('backend/app/main.py'));

    project = await materialize(tree, 'backend');
    const backend = join(project, 'backend');
    const venv = await run('python3', ['-m', 'venv', '.venv'], backend);
    const python = join(backend, '.venv/bin/python');
    const install = await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', 'requirements-dev.txt'], backend);
    const closedPort = await freePort();
    const env = childEnv({ DATABASE_URL: `postgresql://app:secret@127.0.0.1:${closedPort}/${context.database.name}` });
    const passed = async (args: string[]) => {
      const { seconds, output } = await run(python, ['-m', 'pytest', '-q', ...args], backend, env);
      return { seconds, count: Number(/^(\d+) passed\b/m.exec(output)?.[1]) };
    };
    const own = await passed(routers.map((r) => `--ignore=${r.test.replace(/^backend\//, '')}`));
    const all = await passed([]);
    // Two generated tests per router: GET lists the seeded entry, POST creates one.
    expect(own.count).toBeGreaterThan(0);
    expect(all.count).toBe(own.count + 2 * routers.length);

    const port = await freePort();
    server = startServer(python, ['-m', 'uvicorn', 'app.main:app', '--host', '127.0.0.1', '--port', String(port)], backend, env);
    const health = await waitForHttp(`http://127.0.0.1:${port}/health`, server);
    console.log(`[scaffold backend] venv ${venv.seconds.toFixed(1)}s, pip install ${install.seconds.toFixed(1)}s, pytest ${all.seconds.toFixed(1)}s (${own.count} tests of the scaffold, ${all.count - own.count} generated)`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', service: context.startup.displayName });

    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(503);
    const profile = await (await fetch(`http://127.0.0.1:${port}/api/startup`)).json();
    expect(profile).toMatchObject({ industry: 'fintech', category: 'payments' });
    for (const { prefix, item } of routers) {
      const entries = await fetch(`http://127.0.0.1:${port}${prefix}`);
      expect(entries.status, prefix).toBe(200);
      expect(await entries.json(), prefix).toEqual([{ id: '1', title: item.title, detail: item.description }]);
    }
  });
});
