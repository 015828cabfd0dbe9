// 7. Hot reload and thread replacement.
// - Reload latency: write the other build to a temp file and rename it over the watched file;
//   time from the rename to the first call answered by the new version (callFunctionWithInfo
//   polled in a tight loop, one call in flight), over 20 reloads alternating two valid builds of
//   the same guest (the fixture, and the fixture with a custom section appended so the hash
//   differs).
// - Reload storm: throughput with 64 calls in flight while a new build is renamed in every
//   ~100 ms, against the same load with no reloads; failed calls are counted (must be 0).
// - Timeout: a call to endless_loop with timeoutMs 50 on a 1-thread Worker; time from its
//   ERR_CALL_TIMEOUT rejection until stats().threads.ready is back to target and a call succeeds
//   (then, untimed, until the warm spare thread is replenished, so every trial starts the same).
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '../../dist/index.js';
import { FIXTURE, jsonPayload, sleep, summarize, throughput, waitFor } from '../lib.mjs';

export const title = 'Hot reload, reload storm, timeout → replacement';

const RELOADS = 20;

export default async function reload(ctx) {
  const dir = mkdtempSync(join(tmpdir(), 'wasmtube-bench-'));
  try {
    const builds = twoBuilds();
    const file = join(dir, 'guest.wasm');
    let next = 0;
    const deploy = () => {
      next = 1 - next;
      writeFileSync(`${file}.tmp`, builds[next]);
      renameSync(`${file}.tmp`, file);
    };
    writeFileSync(file, builds[0]);
    if (ctx.want('latency') || ctx.want('storm')) {
      const worker = await Worker.start({ wasmFile: file, threads: 2 });
      const deployMs = [];
      worker.on('reload', (event) =>
        deployMs.push({ at: performance.now(), ms: event.durationMs }),
      );
      const reloadErrors = [];
      worker.on('reload-error', (error) => reloadErrors.push(error));
      try {
        if (ctx.want('latency')) await reloadLatency(ctx, worker, deploy, deployMs);
        if (ctx.want('storm')) await reloadStorm(ctx, worker, deploy);
      } finally {
        await worker.stop();
      }
      if (reloadErrors.length > 0) {
        throw new Error(`reloads were rejected: ${reloadErrors.map((e) => e.message).join('; ')}`);
      }
    }
    if (ctx.want('timeout')) await timeoutReplacement(ctx);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return ctx.rows;
}

/** The fixture, and the fixture plus a custom section: same code, another hash. */
function twoBuilds() {
  const a = readFileSync(FIXTURE);
  const name = Buffer.from('wasmtube-bench');
  const payload = Buffer.from('build B');
  const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
  const b = Buffer.concat([a, Buffer.from([0, body.length]), body]); // id 0, size (< 128), body
  return [a, b];
}

async function reloadLatency(ctx, worker, deploy, deployMs) {
  const data = jsonPayload(64);
  const samples = [];
  const deploys = [];
  const events = [];
  let failed = 0;
  const reloads = Math.max(4, ctx.n(RELOADS));
  for (let i = 0; i < reloads; i++) {
    const target = worker.version + 1;
    deployMs.length = 0;
    deploy();
    const start = performance.now();
    for (;;) {
      try {
        const { info } = await worker.callFunctionWithInfo('echo', { data });
        if (info.version >= target) break;
      } catch {
        failed++;
      }
      if (performance.now() - start > 10_000) throw new Error('no new version after 10 s');
    }
    samples.push(performance.now() - start);
    if (deployMs.length > 0) {
      deploys.push(deployMs[0].ms);
      events.push(deployMs[0].at - start);
    }
    // Let the old threads exit and the watcher settle before the next rename (untimed).
    await waitFor(() => {
      const { threads } = worker.stats();
      return threads.alive >= threads.target && threads.ready >= threads.target;
    }, 'the new threads');
    await sleep(100);
  }
  ctx.add(
    'latency',
    `rename → first call served by new version (${samples.length} reloads)`,
    { ...summarize(samples), failed },
    'ms',
    `${failed} failed calls; 2 threads; rename → reload event ` +
      `${summarize(events).p50.toFixed(0)} ms p50, of which the deploy itself (read → the ` +
      `threads serve the new version) ${summarize(deploys).p50.toFixed(0)} ms; the rest is ` +
      `noticing the file (chokidar, reloadStabilityMs 30, reloadDebounceMs 10)`,
  );
}

async function reloadStorm(ctx, worker, deploy) {
  const data = jsonPayload(64);
  const durationMs = ctx.n(3000);
  const call = () => worker.callFunction('echo', { data });
  const errors = new Map();
  const onError = (error) => errors.set(error.code, (errors.get(error.code) ?? 0) + 1);
  const options = { inFlight: 64, durationMs, warmupMs: 300, reps: 1, onError };
  const calm = await throughput(call, options);
  ctx.add('calm', 'Worker 2 threads, 64 in flight, no reloads', only(calm), 'calls/s');

  const before = worker.version;
  const timer = setInterval(deploy, 100);
  let stormy;
  try {
    stormy = await throughput(call, options);
  } finally {
    clearInterval(timer);
  }
  const versions = worker.version - before;
  const codes = [...errors].map(([code, n]) => `${code}×${n}`).join(', ');
  ctx.add(
    'storm',
    'Worker 2 threads, 64 in flight, a rename every 100 ms',
    only(stormy),
    'calls/s',
    `${stormy.failed} failed calls${codes ? ` (${codes})` : ''}; ${versions} versions deployed ` +
      `in ~${(durationMs + 300) / 1000} s; ${((100 * stormy.value) / calm.value).toFixed(0)}% of calm`,
  );
  // Let the last reload land before the worker stops.
  await sleep(500);
}

async function timeoutReplacement(ctx) {
  const worker = await Worker.start({ wasmFile: FIXTURE, threads: 1, watch: false, timeoutMs: 50 });
  const samples = [];
  const restartSamples = [];
  const spareSamples = [];
  const spares = worker.stats().threads.spare;
  try {
    const trials = Math.max(3, ctx.n(10));
    for (let i = 0; i < trials; i++) {
      let restartedAt;
      worker.once('restart', () => (restartedAt = performance.now()));
      const calledAt = performance.now();
      const error = await worker.callFunction('endless_loop', { data: null }).then(
        () => undefined,
        (e) => e,
      );
      const rejectedAt = performance.now();
      if (error?.code !== 'ERR_CALL_TIMEOUT')
        throw new Error(`expected ERR_CALL_TIMEOUT, got ${error}`);
      // The dead thread must have been seen to go (its restart event), then the pool be back
      // to its target with a thread that answers.
      await waitFor(() => restartedAt !== undefined, 'the restart event');
      await waitFor(() => {
        const { threads } = worker.stats();
        return threads.ready >= threads.target;
      }, 'threads.ready back to target');
      await worker.callFunction('echo', { data: 1 });
      samples.push(performance.now() - rejectedAt);
      restartSamples.push(restartedAt - calledAt);
      // Full strength again before the next trial: warm spares (spareThreads) replenished too.
      const spareTarget = worker.stats().threads.spare === undefined ? undefined : spares;
      if (spareTarget !== undefined) {
        await waitFor(() => worker.stats().threads.spare >= spareTarget, 'the spare thread');
        spareSamples.push(performance.now() - rejectedAt);
      }
    }
  } finally {
    await worker.stop();
  }
  ctx.add(
    'timeout',
    'ERR_CALL_TIMEOUT rejection → replacement thread serving',
    summarize(samples),
    'ms',
    `1 thread${spares ? ` + ${spares} warm spare` : ''}, timeoutMs 50; the old thread's restart ` +
      `event came ${summarize(restartSamples).p50.toFixed(1)} ms (p50) after the call started` +
      (spareSamples.length
        ? `; spare replenished ${summarize(spareSamples).p50.toFixed(0)} ms (p50) after the rejection`
        : ''),
  );
}

/** One run: no spread to show. */
const only = ({ value, failed }) => ({ value, failed });
