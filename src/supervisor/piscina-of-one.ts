import type { ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';

const THREAD_ENTRY = new URL('../thread/thread-main.cjs', import.meta.url).href;

/**
 * A piscina of exactly one wasmtube thread, kept alive (piscina replaces it if it dies) until
 * destroyed. `workerData` is the object piscina hands every thread it starts, this one and its
 * replacements: changing it changes what a replacement starts on.
 */
export function piscinaOfOne(
  workerData: object,
  resourceLimits: ResourceLimits | undefined,
): Piscina {
  return new Piscina({
    filename: THREAD_ENTRY,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Infinity,
    // Not 'sync': a thread blocked in Atomics.wait while an uncaught error is being raised in it
    // never exits, not even on terminate() (seen on Node 20), which leaks the thread and keeps
    // the process alive. Idle threads also run their event loop, so host code's timers fire.
    atomics: 'disabled',
    workerData,
    ...(resourceLimits ? { resourceLimits } : {}),
  });
}
