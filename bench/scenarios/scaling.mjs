// Pools that scale with load (issue 18).
// - idle-rss: a gateway serving 50 copies of the test guest with minThreads 0, in a fresh child
//   process (scaling-child.mjs): its RSS once every module has deployed and the process settled.
// - cold-call / cold-call-no-reservoir: a Worker with minThreads 0 and idleTimeoutMs 20; each
//   sample waits until the pool is at zero threads and the reservoir has had time to boot its
//   replacement blank thread (sporadic calls), then times one echo call: with the default
//   reservoir ('auto': 1 blank thread for this pool of 0..1; claim it, instantiate the compiled
//   module) and with none (boot a thread, then instantiate).
// - grow / grow-reservoir-1: a Worker with minThreads 1, maxThreads 4; 200 calls of ~5 ms each
//   are submitted at once; time from the submit until all 4 threads are ready and serving, with
//   the default reservoir ('auto': maxThreads − minThreads, at most one per core: 2 on 2 cores;
//   the pool's warm spare is the third new thread) and with 1 blank thread (one thread boots).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BLANK_THREADS, setBlankThreads, Worker } from '../../dist/index.js';
import { FIXTURE, sleep, summarize, waitFor } from '../lib.mjs';

export const title = 'Scaling with load: idle RSS, scale-to-zero wake-up, growth';

const CHILD = fileURLToPath(new URL('./scaling-child.mjs', import.meta.url));
const MODULES = 50;
const MAX_THREADS = 4;

export default async function scaling(ctx) {
  if (ctx.want('idle-rss')) {
    const out = execFileSync(process.execPath, ['--expose-gc', CHILD, String(MODULES)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const { rss, threads, blank } = JSON.parse(out.trim().split('\n').pop());
    ctx.add(
      'idle-rss',
      `gateway, ${MODULES} idle modules, minThreads 0 (goal ≤ 150 MB)`,
      { value: rss },
      'MiB',
      `${threads} module threads alive at rest, ${blank} blank thread(s) in the reservoir`,
    );
  }
  for (const [id, blank] of [
    ['cold-call', DEFAULT_BLANK_THREADS],
    ['cold-call-no-reservoir', 0],
  ]) {
    if (!ctx.want(id)) continue;
    setBlankThreads(blank);
    const worker = await Worker.start({
      wasmFile: FIXTURE,
      minThreads: 0,
      maxThreads: 1,
      idleTimeoutMs: 20,
      watch: false,
    });
    try {
      const samples = [];
      const count = ctx.quick ? 10 : 40;
      for (let i = 0; i < count; i++) {
        await waitFor(() => worker.stats().threads.alive === 0, 'the pool at zero threads');
        await sleep(250); // sporadic calls: the reservoir's replacement has booted
        const started = performance.now();
        await worker.callFunction('echo', { data: i });
        samples.push(performance.now() - started);
      }
      ctx.add(
        id,
        blank !== 0
          ? `cold call to a module at zero, reservoir ${blank} (goal ≤ 30 ms p50)`
          : 'cold call to a module at zero, no blank thread',
        summarize(samples),
        'ms',
        blank !== 0
          ? 'claims a warm blank thread, instantiates the compiled module, runs echo'
          : 'boots a thread, instantiates the compiled module, runs echo',
      );
    } finally {
      await worker.stop();
      setBlankThreads(DEFAULT_BLANK_THREADS);
    }
  }
  for (const [id, blank] of [
    ['grow', DEFAULT_BLANK_THREADS],
    ['grow-reservoir-1', 1],
  ]) {
    if (!ctx.want(id)) continue;
    setBlankThreads(blank);
    const samples = [];
    const reps = ctx.quick ? 3 : 10;
    for (let r = 0; r < reps; r++) {
      const worker = await Worker.start({
        wasmFile: FIXTURE,
        minThreads: 1,
        maxThreads: MAX_THREADS,
        idleTimeoutMs: 60_000,
        watch: false,
      });
      try {
        await sleep(300); // the warm spare and the reservoir's blank threads finished booting
        const work = { data: { rounds: 3_000_000 } }; // ~5 ms each
        const started = performance.now();
        const calls = Array.from({ length: 200 }, () => worker.callFunction('work', work));
        await waitFor(() => worker.stats().threads.ready === MAX_THREADS, 'grown to maxThreads', {
          everyMs: 1,
        });
        samples.push(performance.now() - started);
        await Promise.all(calls);
      } finally {
        await worker.stop();
      }
    }
    setBlankThreads(DEFAULT_BLANK_THREADS);
    ctx.add(
      id,
      `grow 1 → ${MAX_THREADS} threads under load, reservoir ${blank}` +
        (blank === DEFAULT_BLANK_THREADS ? ' (goal ≤ 100 ms p50)' : ''),
      summarize(samples),
      'ms',
      '200 calls of ~5 ms submitted at once; until every thread is ready',
    );
  }
  return ctx.rows;
}
