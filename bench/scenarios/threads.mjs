// 2. Thread-crossing floors, each running the same wasm echo inside the thread (hand-rolled, no
// JSON there): the caller encodes the JSON and decodes the result, as a Worker caller's thread
// does. A bare worker_threads postMessage round trip; a SharedArrayBuffer + Atomics channel
// (thread blocks in Atomics.wait; the caller waits with Atomics.waitAsync, and — for reference —
// with a blocking Atomics.wait, which no server can afford on its main thread); the same with both
// sides spinning (no thread is ever woken: the cost of the wake-ups shows as the difference);
// bare postMessage with 64 calls in flight to one thread (pipelined throughput); and the
// postMessage and waitAsync round trips with ~1 ms and ~10 ms idle before each call (sparse).
import { jsonPayload, latency, SIZES, sizeLabel, throughput } from '../lib.mjs';
import { startAtomicsThread, startPortThread } from '../threads/bare-client.mjs';

export const title = 'Thread-crossing floors (bare threads, same wasm echo inside)';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const encode = (data) => encoder.encode(JSON.stringify(data));
const decode = (bytes) => JSON.parse(decoder.decode(bytes));

export default async function threads(ctx) {
  const port = await startPortThread();
  const atomics = await startAtomicsThread();
  try {
    for (const size of SIZES) {
      const data = jsonPayload(size);
      const label = sizeLabel(size);
      const opts = ctx.latencyOptions(size);
      if (ctx.want(`postmessage.${size}`)) {
        ctx.add(
          `postmessage.${size}`,
          `bare postMessage round trip, echo ${label}`,
          await latency(async () => decode(await port.call('echo', encode(data))), opts),
          'µs',
        );
      }
      if (ctx.want(`atomics-async.${size}`)) {
        ctx.add(
          `atomics-async.${size}`,
          `SAB+Atomics round trip (waitAsync), echo ${label}`,
          await latency(async () => decode(await atomics.call(encode(data))), opts),
          'µs',
        );
      }
      if (ctx.want(`atomics-sync.${size}`)) {
        ctx.add(
          `atomics-sync.${size}`,
          `SAB+Atomics round trip (blocking wait), echo ${label}`,
          await latency(async () => decode(atomics.callSync(encode(data))), opts),
          'µs',
          'blocks the caller',
        );
      }
    }
    if (ctx.want('sparse.64')) {
      const data = jsonPayload(64);
      ctx.add(
        'postmessage.sparse.64',
        'bare postMessage round trip, 1 call per ~1 ms idle, 64 B',
        await latency(
          async () => decode(await port.call('echo', encode(data))),
          ctx.sparseOptions(),
        ),
        'µs',
        'thread asleep when the call comes',
      );
      ctx.add(
        'atomics-async.sparse.64',
        'SAB+Atomics (waitAsync), 1 call per ~1 ms idle, 64 B',
        await latency(async () => decode(await atomics.call(encode(data))), ctx.sparseOptions()),
        'µs',
        'thread asleep when the call comes',
      );
    }
    if (ctx.want('sparse-10ms.64')) {
      // One call per ~10 ms: the threads sleep long enough for the (virtual) CPUs to go idle too.
      const data = jsonPayload(64);
      const sparse10 = { ...ctx.sparseOptions(), calls: ctx.n(60), gapMs: 10 };
      ctx.add(
        'postmessage.sparse-10ms.64',
        'bare postMessage round trip, 1 call per ~10 ms idle, 64 B',
        await latency(async () => decode(await port.call('echo', encode(data))), sparse10),
        'µs',
        'thread asleep when the call comes',
      );
      ctx.add(
        'atomics-async.sparse-10ms.64',
        'SAB+Atomics (waitAsync), 1 call per ~10 ms idle, 64 B',
        await latency(async () => decode(await atomics.call(encode(data))), sparse10),
        'µs',
        'thread asleep when the call comes',
      );
    }
    if (ctx.want('atomics-spin.64')) {
      // Both sides poll: what a round trip costs when no thread has to be woken up.
      const spinning = await startAtomicsThread(undefined, { spin: true });
      const data = jsonPayload(64);
      try {
        ctx.add(
          'atomics-spin.64',
          'SAB+Atomics round trip, both sides spinning, echo 64 B',
          await latency(
            async () => decode(spinning.callSpin(encode(data))),
            ctx.latencyOptions(64),
          ),
          'µs',
          'no wake-ups; burns 2 cores',
        );
      } finally {
        await spinning.terminate();
      }
    }
    if (ctx.want('postmessage-pipelined.64')) {
      const data = jsonPayload(64);
      ctx.add(
        'postmessage-pipelined.64',
        'bare postMessage, 64 in flight to 1 thread, echo 64 B',
        await throughput(
          async () => decode(await port.call('echo', encode(data))),
          ctx.throughputOptions(64),
        ),
        'calls/s',
      );
    }
  } finally {
    await port.terminate();
    await atomics.terminate();
  }
  return ctx.rows;
}
