import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const run = promisify(execFile);
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where browser tests leave their screenshots (kept after the run, for a person to look at). */
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');

/**
 * Debian's Chromium, installed on first use the way the suite builds its control plane:
 * a fresh machine (or CI) brings it itself. `npx playwright install` cannot download
 * browsers here, and Playwright drives Debian's build through `executablePath`.
 */
export async function ensureChromium(log: (message: string) => void = () => {}): Promise<string> {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM} is missing and installing it needs root: apt-get install chromium (or set CHROMIUM_PATH)`);
  log('installing Debian chromium for the browser tests (once per machine)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env, maxBuffer: 64 * 1024 * 1024 });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { env, maxBuffer: 64 * 1024 * 1024 });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

/** Headless, with the flags that keep it off a network this machine does not have. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await ensureChromium((m) => console.error(`[browser] ${m}`));
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    ],
  });
}
