// Child process of the scaling scenario: node --expose-gc scaling-child.mjs <modules>.
// Starts a gateway on a folder of <modules> copies of the test guest with minThreads 0, waits
// until every module serves, settles, and prints { rss (MiB), threads alive, blank threads }.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '../../dist/server/index.js';
import { blankThreads } from '../../dist/supervisor/blank-threads.js';
import { FIXTURE, sleep, waitFor } from '../lib.mjs';

const count = Number(process.argv[2]);
const dir = mkdtempSync(join(tmpdir(), 'wasmtube-scaling-'));
for (let i = 0; i < count; i++) copyFileSync(FIXTURE, join(dir, `m${i}.wasm`));
const gateway = await createGateway({
  dir,
  watch: false,
  logger: false,
  defaults: { minThreads: 0, maxThreads: 2 },
});
try {
  const modules = () => gateway.modules.list();
  await waitFor(
    () => modules().length === count && modules().every((m) => m.state === 'serving'),
    'every module serving',
    { timeoutMs: 60_000, everyMs: 50 },
  );
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(200);
  }
  const threads = modules().reduce((sum, m) => sum + (m.worker?.stats().threads.alive ?? 0), 0);
  const blank = blankThreads.available; // the reservoir's warm threads count in the RSS too
  console.log(JSON.stringify({ rss: process.memoryUsage().rss / 2 ** 20, threads, blank }));
} finally {
  await gateway.close({ timeoutMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
}
