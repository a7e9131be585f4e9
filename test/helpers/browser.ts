/**
 * A real browser for end-to-end tests: Debian's Chromium driven by playwright-core (which brings
 * no browser of its own). `.ci/run` installs Chromium where it is missing; where no browser can be
 * had at all, `findBrowser` says why and the test skips, printing that reason. A browser that is
 * there but fails to start is a failure, not a skip.
 */
import { existsSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';
import { tempDir } from './server.js';

/** `TOCSIN_CHROMIUM`, or the first of Debian's and other usual paths that exists. */
const CANDIDATES = [process.env['TOCSIN_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** Flags known to work on these machines: no sandbox as root, no GPU, no calls to the outside. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export type BrowserFound = { readonly executable: string } | { readonly skip: string };

export function findBrowser(): BrowserFound {
  const executable = CANDIDATES.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
  if (!executable) {
    return { skip: `no Chromium to drive: none of ${CANDIDATES.filter(Boolean).join(', ')} exists (apt-get install chromium, or set TOCSIN_CHROMIUM)` };
  }
  return { executable };
}

/** Headless Chromium with a fresh profile directory, at a desktop window size. */
export async function launchBrowser(executable: string, viewport = { width: 1440, height: 1000 }): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(tempDir('tocsin-chromium-'), { executablePath: executable, headless: true, args: FLAGS, viewport });
}
