import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, freePort, materialize, run, startServer, stopServer, waitForHttp, type Server } from './process.ts';
import { renderBuiltin } from './startups.ts';

/**
 * The FastAPI backend shared by reactnext and vuenuxt: installs from PyPI into a venv,
 * its own tests pass, and it serves /health; /ready reports the database it was given
 * through DATABASE_URL (typed settings), here one that is down.
 */
describe('FastAPI backend', () => {
  let server: Server | undefined;
  let project: string | undefined;
  afterAll(async () => {
    await stopServer(server);
    if (project) await rm(dirname(project), { recursive: true, force: true });
  });

  it('installs in a venv, passes its tests and answers /health', async () => {
    const { tree, context } = await renderBuiltin('reactnext');
    project = await materialize(tree, 'backend');
    const backend = join(project, 'backend');
    const venvSeconds = await run('python3', ['-m', 'venv', '.venv'], backend);
    const python = join(backend, '.venv/bin/python');
    const installSeconds = await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', 'requirements-dev.txt'], backend);
    const closedPort = await freePort();
    const env = childEnv({ DATABASE_URL: `postgresql://app:secret@127.0.0.1:${closedPort}/${context.database.name}` });
    await run(python, ['-m', 'pytest', '-q'], backend, env);

    const port = await freePort();
    server = startServer(python, ['-m', 'uvicorn', 'app.main:app', '--host', '127.0.0.1', '--port', String(port)], backend, env);
    const health = await waitForHttp(`http://127.0.0.1:${port}/health`, server);
    console.log(`[scaffold backend] venv ${venvSeconds.toFixed(1)}s, pip install ${installSeconds.toFixed(1)}s`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', service: context.startup.displayName });

    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(503);
    const profile = await (await fetch(`http://127.0.0.1:${port}/api/startup`)).json();
    expect(profile).toMatchObject({ industry: 'fintech', category: 'payments' });
  });
});
