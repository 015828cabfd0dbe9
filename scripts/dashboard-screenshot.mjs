// Regenerates docs/dashboard.png: a gateway on a copy of examples/, some traffic (good calls,
// failing calls, a hot reload and a rejected build), and the dashboard in headless Chromium.
// Run with `npm run screenshot` (builds first). Needs /usr/bin/chromium (apt-get install chromium).
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createGateway } from '../dist/server/index.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'docs', 'dashboard.png');
if (!existsSync(CHROMIUM)) {
  console.error(`No Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH).`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'wasmtube-screenshot-'));
for (const file of readdirSync(join(root, 'examples'))) {
  if (/\.(wasm|json)$/.test(file)) copyFileSync(join(root, 'examples', file), join(dir, file));
}
const gateway = await createGateway({ dir, reloadStabilityMs: 30, reloadDebounceMs: 10 });
const url = await gateway.listen({ port: 0 });
const post = (path, body, type = 'application/json') =>
  fetch(`${url}/functions/${path}`, { method: 'POST', headers: { 'content-type': type }, body });
const cat = readFileSync(join(root, 'examples', 'cat.png'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const browser = await chromium.launch({
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
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  // Twenty seconds of traffic, so the sparklines have something to show.
  for (let second = 0; second < 20; second++) {
    const calls = [];
    for (let i = 0; i < 10 + second * 2; i++) {
      calls.push(post('echo/hello', JSON.stringify({ name: `n${i}` })));
      calls.push(post('cipher/encrypt', JSON.stringify({ text: 'hello world' })));
    }
    for (let i = 0; i < 2; i++) calls.push(post('filters/grayscale', cat, 'image/png'));
    if (second % 5 === 0) calls.push(post('echo/nope', '{}'));
    if (second % 7 === 0) calls.push(post('filters/grayscale', '{"not":"an image"}'));
    await Promise.all(calls);
    if (second === 8)
      writeFileSync(
        join(dir, 'echo.wasm'),
        readFileSync(join(root, 'examples', 'echo.wasm')).subarray(0, 60),
      );
    if (second === 12) copyFileSync(join(root, 'examples', 'echo.wasm'), join(dir, 'echo.wasm'));
    await sleep(1000);
  }
  // Traffic goes on while the picture is taken, so the figures are not all zero.
  let running = true;
  const background = (async () => {
    while (running) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => post('echo/hello', JSON.stringify({ name: `n${i}` }))),
      );
      await sleep(50);
    }
  })();
  await page.waitForTimeout(2500);
  await page.screenshot({ path: out, fullPage: true });
  running = false;
  await background;
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await gateway.close({ timeoutMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
}
