// The dashboard in a real browser: Debian's Chromium driven by playwright-core. What is asserted
// is what a person sees on the page.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { versionGuest } from './guests.js';
import { callJson, send, startGateway, tempFolder } from './server-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present && process.env.CI === 'true') {
  throw new Error(
    `The dashboard test needs Chromium at ${CHROMIUM} in CI: apt-get install chromium`,
  );
}
if (!present) {
  console.warn(`dashboard.test.ts skipped: no ${CHROMIUM} (apt-get install chromium)`);
}

let browser: Browser;
beforeAll(async () => {
  if (!present) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** A new page on `url`, closed with its context after the test. */
async function open(url: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

const card = (page: Page, module: string) => page.locator(`[data-module="${module}"]`);

describe.skipIf(!present)('the dashboard (Chromium)', () => {
  it('shows each module with its version; a deploy updates the open page within a second or two', async () => {
    const dir = tempFolder({ 'alpha.wasm': versionGuest(1), 'beta.wasm': versionGuest(1) });
    const gateway = await startGateway(dir);
    const page = await open(gateway.url);
    try {
      await card(page, 'alpha').getByText('alpha', { exact: true }).waitFor({ timeout: 10_000 });
      await card(page, 'beta').getByText('beta', { exact: true }).waitFor();
      await card(page, 'alpha').getByText('v1', { exact: true }).waitFor();
      await card(page, 'alpha').getByText('serving', { exact: true }).waitFor();
      await page.getByText('live', { exact: true }).waitFor();

      // An HTTP deploy answers once the new version serves; the page follows within 2 s.
      const deployed = await send(`${gateway.url}/admin/modules/alpha`, {
        method: 'PUT',
        headers: { 'content-type': 'application/wasm' },
        body: versionGuest(2),
      });
      expect(deployed.status).toBe(200);
      await card(page, 'alpha').getByText('v2', { exact: true }).waitFor({ timeout: 2000 });
      // The timeline says what happened.
      await page.locator('#timeline').getByText('reloaded to v2', { exact: false }).waitFor();

      // A file copy too.
      writeFileSync(join(dir, 'beta.wasm'), versionGuest(2));
      await card(page, 'beta').getByText('v2', { exact: true }).waitFor({ timeout: 5000 });
    } finally {
      await page.context().close();
    }
  });

  it('a call that traps shows up in the module failures and the recent errors', async () => {
    const gateway = await startGateway(tempFolder({ 'gamma.wasm': versionGuest(1) }));
    const page = await open(gateway.url);
    try {
      await card(page, 'gamma').getByText('no failures').waitFor({ timeout: 10_000 });
      expect((await callJson(gateway, 'gamma', 'boom', null)).status).toBe(500);
      const failures = card(page, 'gamma').locator('[data-field="failures-by-code"]');
      await failures.getByText('ERR_GUEST_TRAP').waitFor({ timeout: 5000 });
      expect(await failures.textContent()).toMatch(/ERR_GUEST_TRAP\s*1/);
      await page.locator('#errors').getByText('ERR_GUEST_TRAP').waitFor();
      await page.locator('#errors').getByText('gamma.boom', { exact: false }).waitFor();
    } finally {
      await page.context().close();
    }
  });

  it('with a token, the page asks for it and shows nothing until given the right one', async () => {
    const gateway = await startGateway(tempFolder({ 'delta.wasm': versionGuest(1) }), {
      token: 'sesame',
    });
    expect((await send(`${gateway.url}/events`)).status).toBe(401);
    expect((await send(`${gateway.url}/admin/status`)).status).toBe(401);
    const page = await open(gateway.url);
    try {
      const input = page.getByLabel('This gateway needs its token', { exact: false });
      await input.waitFor({ timeout: 10_000 });
      expect(await card(page, 'delta').count()).toBe(0);
      await input.fill('wrong');
      await page.getByRole('button', { name: 'Connect' }).click();
      await page.getByText('That token is not valid.').waitFor();
      await input.fill('sesame');
      await page.getByRole('button', { name: 'Connect' }).click();
      await card(page, 'delta').getByText('v1', { exact: true }).waitFor({ timeout: 5000 });
      expect(await input.isVisible()).toBe(false);
    } finally {
      await page.context().close();
    }
  });
});
