// Headless Debian Chromium through playwright-core, plus a gateway on SQLite talking to a real sandbox.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath, resolve as resolvePath } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { type SandboxGateway, startSandboxGateway } from './sandbox-gateway.ts';

/**
 * Where the browser tests save their screenshots: a temporary folder, so that a test run leaves the work tree
 * as it was. `WXPAY_SCREENSHOTS_DIR=docs/screenshots npm test` refreshes the ones the README shows.
 */
export const SCREENSHOTS = process.env.WXPAY_SCREENSHOTS_DIR
  ? resolvePath(process.env.WXPAY_SCREENSHOTS_DIR)
  : mkdtempSync(joinPath(tmpdir(), 'wxpay-screenshots-'));

export const CHROMIUM = process.env.WXPAY_CHROMIUM ?? '/usr/bin/chromium';

/** Fails loudly (never skips) when Chromium is missing: CI must install it (apt-get install chromium). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set WXPAY_CHROMIUM)`);
  // playwright-core launches with a fresh temporary profile (its own --user-data-dir) every time.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** The gateway on SQLite with the sandbox (its merchant's account has the client certificate, so the dashboard's
 * payout views have red packets to show). */
export type BrowserStack = SandboxGateway;

export const startStack = (): Promise<BrowserStack> => startSandboxGateway('sqlite');
