// Child process of the memory scenario: node --expose-gc memory-child.mjs <kind> <threads>.
// Prints { before, after } RSS in MiB: after loading everything, and after starting the idle
// threads (each holding one instance of the guest) and letting them settle.
import { once } from 'node:events';
import { Worker as NodeWorker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Worker } from '../../dist/index.js';
import { FIXTURE, sleep } from '../lib.mjs';

const [kind, count] = [process.argv[2], Number(process.argv[3])];
const rss = () => process.memoryUsage().rss / 2 ** 20;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(100);
  }
};

await settle();
const before = rss();
let stop;
if (kind === 'wasmtube') {
  const worker = await Worker.start({ wasmFile: FIXTURE, threads: count, watch: false });
  stop = () => worker.stop();
} else if (kind === 'piscina') {
  const pool = new Piscina({
    filename: new URL('../threads/piscina-echo-task.mjs', import.meta.url).href,
    minThreads: count,
    maxThreads: count,
    idleTimeout: Infinity,
  });
  // piscina starts threads lazily-ish: run one task per thread so each has imported the task file.
  await Promise.all(
    Array.from({ length: count }, () => pool.run({ bytes: new Uint8Array([110, 117, 108, 108]) })),
  );
  stop = () => pool.destroy();
} else {
  const threads = Array.from(
    { length: count },
    () =>
      new NodeWorker(new URL('../threads/bare-thread.mjs', import.meta.url), {
        workerData: { wasm: FIXTURE, channel: 'port' },
      }),
  );
  await Promise.all(threads.map((t) => once(t, 'message')));
  stop = () => Promise.all(threads.map((t) => t.terminate()));
}
await sleep(300);
await settle();
const after = rss();
await stop();
console.log(JSON.stringify({ kind, threads: count, before, after }));
