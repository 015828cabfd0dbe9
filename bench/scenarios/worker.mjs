// 4. wasmtube's Worker: latency with one call in flight, throughput with 64 in flight on 1 and 2
// threads, and the same with calls doing ≥ 200 µs of guest work (`work`, rounds 150000). The 1-
// and 2-thread pools are measured in turns (see throughputs() in lib.mjs).
import { Wasmtube, Worker } from '../../dist/index.js';
import { startAtomicsThread, startPortThread } from '../threads/bare-client.mjs';
import {
  batch,
  FIXTURE,
  jsonPayload,
  latency,
  percentile,
  SIZES,
  sizeLabel,
  sleep,
  summarize,
  throughputs,
} from '../lib.mjs';

export const title = "wasmtube's Worker";

const WORK_ROUNDS = 150_000;
/** The Worker's default `spinUs`: how long its thread polls for the next call before sleeping. */
const SPIN_US = 100;

export default async function worker(ctx) {
  const one = await Worker.start({ wasmFile: FIXTURE, threads: 1, watch: false });
  try {
    for (const size of SIZES) {
      if (!ctx.want(`latency.${size}`)) continue;
      const data = jsonPayload(size);
      ctx.add(
        `latency.${size}`,
        `Worker 1 thread: 1 in flight, echo ${sizeLabel(size)}`,
        await latency(() => one.callFunction('echo', { data }), ctx.latencyOptions(size)),
        'µs',
      );
    }
    if (ctx.want('latency.sparse.64')) {
      const data = jsonPayload(64);
      ctx.add(
        'latency.sparse.64',
        'Worker 1 thread: 1 call per ~1 ms idle, echo 64 B',
        await latency(() => one.callFunction('echo', { data }), ctx.sparseOptions()),
        'µs',
        'thread asleep when the call comes',
      );
    }
    if (ctx.want('latency.sparse-10ms.64')) {
      const data = jsonPayload(64);
      ctx.add(
        'latency.sparse-10ms.64',
        'Worker 1 thread: 1 call per ~10 ms idle, echo 64 B',
        await latency(() => one.callFunction('echo', { data }), {
          ...ctx.sparseOptions(),
          calls: ctx.n(60),
          gapMs: 10,
        }),
        'µs',
        'thread asleep when the call comes',
      );
    }
    for (const gapMs of [1, 10]) {
      if (ctx.want(`sparse-${gapMs}ms`)) await sparseSideBySide(ctx, one, gapMs);
    }
    if (ctx.want('hops')) await hops(ctx, one);
  } catch (error) {
    await one.stop();
    throw error;
  }

  // 1 vs 2 threads, measured in turns so that the ratio survives a busy machine.
  let two;
  try {
    if (!ctx.want('throughput') && !ctx.want('work')) return ctx.rows;
    two = await Worker.start({ wasmFile: FIXTURE, threads: 2, watch: false });
    if (ctx.want('throughput')) {
      const data = jsonPayload(64);
      const [r1, r2] = await throughputs(
        [() => one.callFunction('echo', { data }), () => two.callFunction('echo', { data })],
        ctx.throughputOptions(64),
      );
      ctx.add('throughput.1t.64', 'Worker 1 thread: 64 in flight, echo 64 B', r1, 'calls/s');
      ctx.add('throughput.2t.64', 'Worker 2 threads: 64 in flight, echo 64 B', r2, 'calls/s');
    }
    if (ctx.want('work')) {
      const data = { rounds: WORK_ROUNDS };
      const bridge = Wasmtube.fromFile(FIXTURE);
      ctx.add(
        'work.inprocess',
        `guest work per call: work rounds ${WORK_ROUNDS}, in-process`,
        await batch(() => bridge.callFunction('work', { data }), {
          iterations: ctx.n(200),
          warmup: 20,
        }),
        'µs',
      );
      const [r1, r2] = await throughputs(
        [() => one.callFunction('work', { data }), () => two.callFunction('work', { data })],
        { ...ctx.throughputOptions(64), durationMs: ctx.n(1000) },
      );
      const label = `64 in flight, work ${WORK_ROUNDS} rounds`;
      ctx.add('work.1t', `Worker 1 thread: ${label}`, r1, 'calls/s');
      ctx.add('work.2t', `Worker 2 threads: ${label}`, r2, 'calls/s');
    }
  } finally {
    await Promise.all([one.stop(), two?.stop()]);
  }
  return ctx.rows;
}

/**
 * Sporadic calls, the Worker and its floors in the same state: one loop takes turns between a
 * Worker call, a bare postMessage round trip and a SAB+Atomics (waitAsync) round trip, each after
 * `gapMs` of idle, so that each finds every thread (its own and the others') asleep and the
 * machine in the same condition. The Worker's thread spins `spinUs` (100 µs by default) after a
 * call before it sleeps; with 1 ms or 10 ms between calls that spin is long over when the next
 * call comes. The bare threads, and the caller's encoding of the JSON, are those of the
 * `threads` group.
 */
async function sparseSideBySide(ctx, worker, gapMs) {
  const data = jsonPayload(64);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const encode = () => encoder.encode(JSON.stringify(data));
  const decode = (bytes) => JSON.parse(decoder.decode(bytes));
  const port = await startPortThread();
  const atomics = await startAtomicsThread();
  try {
    const kinds = [
      ['worker', 'Worker 1 thread', () => worker.callFunction('echo', { data })],
      [
        'postmessage',
        'bare postMessage round trip',
        async () => decode(await port.call('echo', encode())),
      ],
      [
        'atomics',
        'SAB+Atomics round trip (waitAsync)',
        async () => decode(await atomics.call(encode())),
      ],
    ];
    const samples = kinds.map(() => []);
    const calls = ctx.n(gapMs >= 10 ? 250 : 600);
    const warmup = ctx.n(50);
    for (let i = 0; i < warmup + calls; i++) {
      for (let k = 0; k < kinds.length; k++) {
        // Rotate who goes first, so no kind always follows the same other kind.
        const kind = (i + k) % kinds.length;
        await sleep(gapMs);
        const start = performance.now();
        await kinds[kind][2]();
        if (i >= warmup) samples[kind].push((performance.now() - start) * 1000);
      }
    }
    kinds.forEach(([id, label], k) =>
      ctx.add(
        `sparse-${gapMs}ms.${id}`,
        `${label}, 1 call per ~${gapMs} ms idle, echo 64 B (side by side)`,
        summarize(samples[k]),
        'µs',
        id === 'worker'
          ? `its thread spun ${SPIN_US} µs after the last call, then slept`
          : 'thread asleep when the call comes',
      ),
    );
  } finally {
    await port.terminate();
    await atomics.terminate();
  }
}

/**
 * Where a 64 B call's time goes, from the thread's own timestamps (callFunctionWithInfo's
 * startedAt/finishedAt; epoch-based clocks comparable across threads): the request hop (caller's
 * encoding and post, the thread waking up and picking the call), the run in the thread (the
 * bridge call: write, guest echo, read, JSON decode), and the reply hop (post back, the caller
 * waking up, settling the promise). p50 of each part, back to back and with ~1 ms idle between.
 */
async function hops(ctx, worker) {
  const data = jsonPayload(64);
  const epochNow = () => performance.timeOrigin + performance.now();
  for (const [id, label, gapMs] of [
    ['', 'back to back', 0],
    ['.sparse', '1 call per ~1 ms idle', 1],
  ]) {
    const parts = { request: [], run: [], reply: [] };
    const calls = ctx.n(gapMs ? 600 : 2000);
    for (let i = 0; i < calls + 300; i++) {
      if (gapMs) await sleep(gapMs);
      const start = epochNow();
      const { info } = await worker.callFunctionWithInfo('echo', { data });
      const end = epochNow();
      if (i < 300) continue; // warm-up
      parts.request.push((info.startedAt - start) * 1000);
      parts.run.push((info.finishedAt - info.startedAt) * 1000);
      parts.reply.push((end - info.finishedAt) * 1000);
    }
    for (const [part, what, note] of [
      ['request', 'request hop', 'encode, post, thread wakes and picks the call'],
      ['run', 'run in thread', 'bridge call (write, echo, read, JSON decode) + info'],
      ['reply', 'reply hop', 'post back, caller wakes, settles the promise'],
    ]) {
      const samples = parts[part];
      ctx.add(
        `hops${id}.${part}.64`,
        `Worker 64 B ${label}: ${what}`,
        {
          value: percentile(samples, 50),
          p50: percentile(samples, 50),
          p99: percentile(samples, 99),
        },
        'µs',
        note,
      );
    }
  }
}
