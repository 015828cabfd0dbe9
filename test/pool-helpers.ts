import { afterEach } from 'vitest';
import { Worker, type WorkerOptions } from '../dist/index.js';
import { WASM_TEST } from './helpers.js';

const started: Worker[] = [];

/** Starts a worker on the Rust test guest (unless overridden) and stops it after the test. */
export async function startWorker(options: Partial<WorkerOptions> = {}): Promise<Worker> {
  const worker = await Worker.start({
    ...(options.wasmBinary ? {} : { wasmFile: WASM_TEST }),
    threads: 2,
    ...options,
  } as WorkerOptions);
  started.push(worker);
  return worker;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.stop({ timeoutMs: 1000 })));
});

/** Polls `check` every 10 ms until it returns true; fails with `what` after `limitMs`. */
export async function eventually(
  check: () => boolean,
  what: string,
  limitMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the first emission of `event`; fails with a clear message after `limitMs`. */
export function nextEvent<T>(emitter: Worker, event: string, limitMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no '${event}' event within ${limitMs} ms`)),
      limitMs,
    );
    (emitter as unknown as NodeJS.EventEmitter).once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** Rounds of the test guest's `work` that take roughly `ms` milliseconds (≈600k rounds/ms). */
export const roundsFor = (ms: number): number => Math.round(ms * 600_000);
