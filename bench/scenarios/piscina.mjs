// 3. piscina used by hand: a task file that instantiates the guest once per thread and runs its
// echo (bench/threads/piscina-echo-task.mjs). Default options (on this machine: minThreads
// max(cores/2, 1), maxThreads cores × 1.5, atomics 'sync'), with concurrentTasksPerWorker: 32,
// and pinned to one thread for a like-for-like comparison with a 1-thread Worker.
import { Piscina } from 'piscina';
import { jsonPayload, latency, throughput } from '../lib.mjs';

export const title = 'piscina by hand (task file instantiates the guest once per thread)';

const FILENAME = new URL('../threads/piscina-echo-task.mjs', import.meta.url).href;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const VARIANTS = [
  ['default', 'default options', {}],
  ['ctpw32', 'concurrentTasksPerWorker: 32', { concurrentTasksPerWorker: 32 }],
  ['1thread', '1 thread (min = max = 1)', { minThreads: 1, maxThreads: 1 }],
];

export default async function piscina(ctx) {
  const data = jsonPayload(64);
  for (const [id, label, options] of VARIANTS) {
    if (!ctx.want(`${id}.latency.64`) && !ctx.want(`${id}.throughput.64`)) continue;
    const pool = new Piscina({ filename: FILENAME, ...options });
    const call = async () =>
      JSON.parse(decoder.decode(await pool.run({ bytes: encoder.encode(JSON.stringify(data)) })));
    try {
      if (ctx.want(`${id}.latency.64`)) {
        ctx.add(
          `${id}.latency.64`,
          `piscina ${label}: 1 in flight, echo 64 B`,
          await latency(call, ctx.latencyOptions(64)),
          'µs',
        );
      }
      if (ctx.want(`${id}.throughput.64`)) {
        const result = await throughput(call, ctx.throughputOptions(64));
        ctx.add(
          `${id}.throughput.64`,
          `piscina ${label}: 64 in flight, echo 64 B`,
          result,
          'calls/s',
          `${pool.threads.length} threads`,
        );
      }
    } finally {
      await pool.destroy();
    }
  }
  return ctx.rows;
}
