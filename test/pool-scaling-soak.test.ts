import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixture } from './helpers.js';
import { seededRandom } from './seeded-random.js';
import { eventually, startWorker } from './pool-helpers.js';

// A pool that scales between 0 and 3 threads with a short idleTimeoutMs, fed bursts of calls
// separated by pauses long enough for it to shrink (often to zero), while some calls crash their
// thread, spin past their timeout, trap or are aborted, and new builds are deployed. Scaling ends threads all the time here:
// it must never end one with a call on it, so every healthy call succeeds with its own payload.
const SEED = 18_2026;
const HOST_MODULE = fileURLToPath(new URL('./fixtures/hosts/chaos-host.mjs', import.meta.url));
const EXPECTED: Record<string, string[]> = {
  // A crash's own exit can come after timeoutMs on a saturated machine: the watchdog ends it first.
  crash: ['ERR_WORKER_EXITED', 'ERR_CALL_TIMEOUT'],
  spin: ['ERR_CALL_TIMEOUT'],
  trap: ['ERR_GUEST_TRAP'],
  abort: ['ERR_ABORTED'],
};

describe('scaling soak', () => {
  it('bursts and pauses among crashes, timeouts, traps, aborts and reloads: 0 innocent failures', async () => {
    const worker = await startWorker({
      wasmFile: fixture('chaos'),
      hostModule: HOST_MODULE,
      threads: undefined,
      minThreads: 0,
      maxThreads: 3,
      idleTimeoutMs: 25,
      timeoutMs: 150,
      supervision: { maxRestarts: 1_000_000, periodMs: 1000 },
    });
    const random = seededRandom(SEED);
    const innocentFailures: string[] = [];
    const faultsWithOtherOutcome: string[] = [];
    let healthy = 0;
    let faults = 0;
    let scaledDown = 0;
    let mostThreads = 0;
    let reloads = 0;
    worker.on('exit', (exit: { expected: boolean }) => {
      if (exit.expected) scaledDown++;
    });
    const watch = setInterval(() => {
      mostThreads = Math.max(mostThreads, worker.stats().threads.alive);
    }, 5);
    for (let burst = 0; burst < 40; burst++) {
      const calls = Array.from({ length: 1 + random.int(10) }, async (_, i) => {
        const r = random.next();
        const kind =
          r < 0.05 ? 'crash' : r < 0.1 ? 'spin' : r < 0.15 ? 'trap' : r < 0.2 ? 'abort' : 'echo';
        const data = { burst, i, nonce: random.int(1e9) };
        const options: { signal?: AbortSignal } = {};
        if (kind === 'abort') options.signal = AbortSignal.timeout(1 + random.int(3));
        const fn = kind === 'abort' ? 'spin' : kind;
        try {
          const result = await worker.callFunction(fn, { data }, options);
          if (kind === 'echo') {
            healthy++;
            if (JSON.stringify(result) !== JSON.stringify(data)) {
              innocentFailures.push(`${burst}/${i}: wrong result ${JSON.stringify(result)}`);
            }
          } else faultsWithOtherOutcome.push(`${kind} ${burst}/${i}: succeeded`);
        } catch (error) {
          const code = (error as { code?: string }).code ?? String(error);
          if (kind === 'echo') innocentFailures.push(`${burst}/${i}: ${code}`);
          else if (!(EXPECTED[kind] ?? []).includes(code))
            faultsWithOtherOutcome.push(`${kind}: ${code}`);
          else faults++;
        }
      });
      // Every fourth burst, a deploy of the other build while calls run: threads switch in
      // place, catch up as they start, or a new pool takes over, beside the scaling.
      if (burst % 4 === 3) {
        const bytes = readFileSync(fixture(burst % 8 === 3 ? 'chaos_v2' : 'chaos'));
        calls.push(
          worker.reload(bytes).then(
            () => void reloads++,
            (error: { code?: string }) => void faultsWithOtherOutcome.push(`reload: ${error.code}`),
          ),
        );
      }
      await Promise.all(calls);
      // Pauses around idleTimeoutMs: sometimes the pool shrinks, sometimes a burst finds it
      // shrinking.
      await new Promise((resolve) => setTimeout(resolve, random.int(80)));
    }
    clearInterval(watch);
    expect(innocentFailures).toEqual([]);
    expect(faultsWithOtherOutcome).toEqual([]);
    expect(healthy).toBeGreaterThan(100);
    expect(faults).toBeGreaterThan(10);
    expect(mostThreads).toBeGreaterThanOrEqual(2);
    // Threads were ended for scaling (and timeouts/aborts) over and over, and it rests at zero.
    expect(scaledDown).toBeGreaterThan(10);
    expect(reloads).toBe(10);
    await eventually(() => worker.stats().threads.alive === 0, 'scaled to zero at the end');
  }, 60_000);
});
