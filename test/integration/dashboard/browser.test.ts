/**
 * The dashboard in a real browser (Debian's headless Chromium through playwright-core),
 * against the operator running a real offline pipeline: the page loads, a Startup applied
 * to the cluster appears without a reload and its phase and task progress move live, and
 * a name made of markup stays text. Screenshots go to test-results/screenshots/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../../support/cluster.ts';
import { SCREENSHOT_DIR, launchChromium } from '../../support/browser.ts';
import { apply, startFactory, type TestFactory } from '../../support/factory.ts';
import { applyProvider, waitForPhase } from '../../support/pipeline.ts';

let factory: TestFactory;
let browser: Browser;
let page: Page;
let url: string;
const dialogs: string[] = [];
const offline = uniqueName('offline');
const name = uniqueName('lumen');
const hostile = uniqueName('xss');
const HOSTILE_NAME = '<script>alert(1)</script><img src=x onerror=alert(2)>';

const shot = (file: string, fullPage = true) => page.screenshot({ path: join(SCREENSHOT_DIR, file), fullPage });

beforeAll(async () => {
  [factory, browser] = await Promise.all([
    startFactory(['--leader-elect=false', '--dashboard-auth=none', '--dashboard-address=127.0.0.1']),
    launchChromium(),
  ]);
  await applyProvider(factory, { name: offline, type: 'offline' });
  url = factory.operator.dashboard!.url();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  await page.goto(url);
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });
});

afterAll(async () => {
  await browser?.close();
  await factory?.cleanup();
});

describe('the dashboard in Chromium', () => {
  it('loads the overview, live, with no Startup of its own yet', async () => {
    await expect(page.locator('#overview h1').textContent()).resolves.toBe('Startups');
    await expect(page.locator('#app .empty').textContent()).resolves.toMatch(/No Startups yet/);
    await shot('overview-empty.png');
  });

  it('shows an applied Startup within 2 s without a reload, and its phase and progress change live', async () => {
    const row = page.locator(`tr[data-startup="${name}"]`);
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await apply([factory.manifest(name, {
      displayName: 'Lumen Ledger', industry: 'fintech', category: 'bookkeeping',
      idea: 'Bookkeeping that closes the month by itself.', ai: { providers: [offline] },
    })]);
    // The acceptance bound: the row is there within 2 s of the apply, with no reload.
    await row.waitFor({ timeout: 2_000 });

    // Sample what the page shows while the pipeline runs: it must move without a reload.
    const phases = new Set<string>();
    const progress = new Set<string>();
    let sawRunningScreen = false;
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline) {
      const phase = (await row.locator('.badge').textContent()) ?? '';
      phases.add(phase);
      progress.add((await row.locator('td.progress').textContent()) ?? '');
      if (phase === 'Running' && !sawRunningScreen && progress.size >= 3) {
        await shot('overview-running.png');
        sawRunningScreen = true;
      }
      if (phase === 'Succeeded' || phase === 'Failed') break;
      await page.waitForTimeout(200);
    }
    expect([...phases]).toContain('Running');
    expect([...phases]).toContain('Succeeded');
    // 0/1 or 0/n at first, then more tasks done, until n/n.
    expect(progress.size).toBeGreaterThanOrEqual(3);
    const final = await row.locator('td.progress').textContent();
    expect(final).toMatch(/^(\d+)\/\1$/);
    await expect(row.locator('.node[data-phase="Succeeded"]').count()).resolves.toBeGreaterThanOrEqual(9);
    expect(navigations.filter((u) => !u.includes('#'))).toEqual([]);
    await shot('overview-succeeded.png');
  });

  it('renders a Startup named with markup as text: nothing runs, nothing is injected', async () => {
    await apply([factory.manifest(hostile, { displayName: HOSTILE_NAME, industry: '<b>bold</b>', ai: { providers: [offline] }, suspend: true })]);
    const row = page.locator(`tr[data-startup="${hostile}"]`);
    await row.waitFor({ timeout: 5_000 });
    await expect(row.locator('a.name').textContent()).resolves.toBe(HOSTILE_NAME);
    await expect(row.locator('div.name-sub').textContent()).resolves.toContain('<b>bold</b>');
    await expect(page.locator('#app script, #app img, #app b').count()).resolves.toBe(0);
    // Its own page too, where the name is the heading.
    await page.goto(`${url}#/startups/${hostile}`);
    await page.locator('#startup h1').waitFor();
    await expect(page.locator('#startup h1').textContent()).resolves.toContain(HOSTILE_NAME);
    await expect(page.locator('#app script, #app img, #app b').count()).resolves.toBe(0);
    expect(dialogs).toEqual([]);
    await shot('startup-hostile-name.png');
  });

  it("shows a Startup's page: its DAG, tasks, conditions, Events, outputs, shared context, files and objects", async () => {
    await waitForPhase(factory, name, ['Succeeded']);
    await page.goto(`${url}#/startups/${name}`);
    await page.locator('#graph .card').first().waitFor();
    await expect(page.locator('#graph .card[data-phase="Succeeded"]').count()).resolves.toBeGreaterThanOrEqual(9);
    await page.locator('#conditions').waitFor({ timeout: 10_000 });
    await expect(page.locator('#conditions').textContent()).resolves.toMatch(/PipelineSucceeded/);
    await expect(page.locator('#tasks tbody tr').count()).resolves.toBeGreaterThanOrEqual(9);
    await expect(page.locator('#tasks').textContent()).resolves.toContain(offline);
    await expect(page.locator('#events tbody tr').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('details.output[data-task="market-research"] pre').textContent()).resolves.toMatch(/offline demo/i);
    await expect(page.locator('.files').textContent()).resolves.toContain('package.json');
    await expect(page.locator('.files .origin[data-origin="generated"]').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('#objects').textContent()).resolves.toMatch(/ResourceQuota/);
    await expect(page.locator('#objects').textContent()).resolves.not.toMatch(/Secret/);
    await shot('startup-page-top.png', false);
    await page.locator('details.output[data-task="market-research"] summary').click();
    await shot('startup-page.png');
  });

  it('shows the providers with what was learned per task type', async () => {
    await page.goto(`${url}#/providers`);
    const card = page.locator(`[data-provider="${offline}"]`);
    await card.waitFor();
    await expect(card.locator('h2').textContent()).resolves.toContain('Ready');
    await card.locator(`#stats-${offline} tbody tr`).first().waitFor({ timeout: 15_000 });
    await expect(card.locator(`#stats-${offline}`).textContent()).resolves.toMatch(/research/);
    await shot('providers.png');
  });

  it('shows the analytics of what finished, and the routing share on the providers page', async () => {
    // The analytics count a Startup a few seconds after it finished.
    await waitFor('the analytics to count the Startup', async () => {
      const r = await (await fetch(new URL('/api/analytics?by=industry&since=48h', url))).json() as { groups: { key: string; count: number }[] };
      return r.groups.find((g) => g.key === 'fintech')?.count === 1;
    }, 30_000);
    await page.goto(`${url}#/analytics`);
    const table = page.locator('#analytics-table');
    await table.waitFor();
    await expect(table.locator('tbody tr').first().textContent()).resolves.toMatch(/^fintech1100%/);
    await expect(page.locator('#analytics svg.chart rect').count()).resolves.toBeGreaterThan(0);
    await shot('analytics.png');
    await page.goto(`${url}#/providers`);
    await page.locator('#routing').waitFor();
    await expect(page.locator('#routing').textContent()).resolves.toContain(offline);
    await shot('providers-routing.png');
  });
});
