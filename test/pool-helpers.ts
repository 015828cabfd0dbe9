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

/**
 * Runs an ES module script in a fresh Node process and returns its exit code and output. A
 * process that does not exit on its own within `limitMs` is killed (exit code null): that is
 * how tests see a leaked thread or handle.
 */
export async function runScript(
  script: string,
  limitMs = 20_000,
): Promise<{ code: number | null; output: string }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (c) => (clearTimeout(guard), resolve(c)));
  });
  return { code, output: output.trim() };
}

/** `import { ... } from <dist>` for scripts run by {@link runScript}. */
export const DIST = new URL('../dist/index.js', import.meta.url).href;
