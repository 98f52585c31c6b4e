/**
 * A real headless browser for the pages people look at (the report, the dashboard): Debian's
 * `chromium` at /usr/bin/chromium (`.ci/run` installs it), driven by playwright-core — no browser
 * download. `CJ_CHROMIUM` points at another binary.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CJ_CHROMIUM ?? '/usr/bin/chromium';

/** The flags the project's browser tests run Chromium with (no network of its own, no sandbox). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\` (.ci/run does)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true });
}
