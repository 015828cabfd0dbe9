import { describe, expect, it } from 'vitest';
import { Worker } from '../dist/index.js';
import { fileURLToPath } from 'node:url';
import { fixture, rejectsWithCode, WASM_TEST } from './helpers.js';
import { eventually, nextEvent, roundsFor, startWorker } from './pool-helpers.js';
import { readFileSync } from 'node:fs';

/** Threads that serve now, with the pool's bounds. */
const threadsOf = (worker: Worker) => worker.stats().threads;

describe('Worker pools that scale with load', () => {
  it('grows toward maxThreads while calls wait, never beyond, and shrinks back after idleTimeoutMs', async () => {
    const worker = await startWorker({
      threads: undefined,
      minThreads: 1,
      maxThreads: 3,
      idleTimeoutMs: 500,
    });
    expect(threadsOf(worker)).toMatchObject({ target: 1, min: 1, max: 3, ready: 1 });
    let most = 0;
    let mostAlive = 0;
    const watch = setInterval(() => {
      most = Math.max(most, threadsOf(worker).target);
      mostAlive = Math.max(mostAlive, threadsOf(worker).alive);
    }, 5);
    const work = { data: { rounds: roundsFor(20) } };
    const results = await Promise.all(
      Array.from({ length: 40 }, () => worker.callFunctionWithInfo('work', work)),
    );
    clearInterval(watch);
    expect(most).toBe(3);
    expect(mostAlive).toBeLessThanOrEqual(3);
    // Calls were served by more than the one thread at rest.
    expect(new Set(results.map((r) => r.info.threadId)).size).toBeGreaterThan(1);
    await eventually(() => threadsOf(worker).target === 1, 'back to minThreads', 10_000);
    await eventually(() => threadsOf(worker).alive === 1, 'idle threads exited', 10_000);
    expect(worker.stats().restarts).toBe(0);
    expect(await worker.callFunction('echo', { data: 'still serving' })).toBe('still serving');
  });

  it('minThreads 0: no thread at rest, a call boots one, then back to zero', async () => {
    const worker = await startWorker({
      threads: undefined,
      minThreads: 0,
      maxThreads: 2,
      idleTimeoutMs: 200,
    });
    // Not even the warm spare stays.
    expect(threadsOf(worker)).toMatchObject({ target: 0, alive: 0, spare: 0 });
    expect(await worker.callFunction('echo', { data: 'woken' })).toBe('woken');
    expect(threadsOf(worker).target).toBeGreaterThanOrEqual(1);
    await eventually(
      () => threadsOf(worker).target === 0 && threadsOf(worker).alive === 0,
      'scaled back to zero',
    );
    await eventually(() => threadsOf(worker).spare === 0, 'the spare gone too');
    expect(await worker.callFunction('echo', { data: 'again' })).toBe('again');
    expect(worker.stats()).toMatchObject({ restarts: 0, failed: 0 });
  });

  it('a timeout in a scaled pool replaces the thread; the pool still scales down', async () => {
    const worker = await startWorker({
      threads: undefined,
      minThreads: 0,
      maxThreads: 2,
      idleTimeoutMs: 200,
      timeoutMs: 300,
    });
    const restart = nextEvent<{ reason: string }>(worker, 'restart');
    await rejectsWithCode(worker.callFunction('endless_loop', { data: null }), 'ERR_CALL_TIMEOUT');
    expect(await restart).toMatchObject({ reason: 'timeout' });
    expect(await worker.callFunction('echo', { data: 1 })).toBe(1);
    await eventually(() => threadsOf(worker).alive === 0, 'scaled to zero after the timeout');
  });

  it('a crash in a scaled pool is replaced and later calls are served; no other thread ends', async () => {
    const worker = await startWorker({
      wasmFile: fixture('needs_import'),
      importsModule: fileURLToPath(new URL('./fixtures/hosts/crashy-imports.mjs', import.meta.url)),
      threads: undefined,
      minThreads: 1,
      maxThreads: 2,
      idleTimeoutMs: 200,
    });
    const exits: { threadId: number; exitCode: number; expected: boolean }[] = [];
    worker.on('exit', (exit) => exits.push(exit));
    const restart = nextEvent<{ reason: string; threadId: number }>(worker, 'restart');
    await rejectsWithCode(worker.callFunction('echo', { data: 'exit' }), 'ERR_WORKER_EXITED');
    const crashed = await restart;
    expect(crashed).toMatchObject({ reason: 'crash' });
    await eventually(() => threadsOf(worker).ready === 1, 'the thread replaced');
    // crashy-imports reads the payload's length: 6 bytes exit, 7 bytes throw. "after" (7 bytes
    // as JSON) made the innocent call of this test crash its own thread (exit code 1).
    const innocent = 'served after the crash';
    expect(JSON.stringify(innocent).length).toBeGreaterThan(7);
    for (let i = 0; i < 5; i++)
      expect(await worker.callFunction('echo', { data: innocent })).toBe(innocent);
    // The pool scales back to its minimum meanwhile: only planned exits beside the crash.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(exits.filter((e) => !e.expected)).toEqual([
      { threadId: crashed.threadId, exitCode: 3, expected: false },
    ]);
  });

  it('the crashy host ends the thread of a 7-byte payload (why innocent calls must not send one)', async () => {
    const worker = await startWorker({
      wasmFile: fixture('needs_import'),
      importsModule: fileURLToPath(new URL('./fixtures/hosts/crashy-imports.mjs', import.meta.url)),
      threads: 1,
    });
    const exit = nextEvent<{ exitCode: number; expected: boolean }>(worker, 'exit');
    // Whether its reply leaves before the thread dies is a race; the thread's end is not.
    await worker.callFunction('echo', { data: 'after' }).catch(() => undefined);
    expect(await exit).toMatchObject({ exitCode: 1, expected: false });
  });

  it('reloads a module scaled to zero: the next call is served by the new version', async () => {
    const worker = await startWorker({
      threads: undefined,
      minThreads: 0,
      maxThreads: 1,
      idleTimeoutMs: 100,
    });
    const result = await worker.reload(readFileSync(WASM_TEST));
    expect(result).toMatchObject({ from: 0, to: 1 });
    expect(threadsOf(worker).alive).toBe(0);
    const { info } = await worker.callFunctionWithInfo('echo', { data: 2 });
    expect(info.version).toBe(1);
    await eventually(() => threadsOf(worker).alive === 0, 'back to zero after the reload');
  });

  it('a module scaled to zero that cannot instantiate: each call fails with its error, none hangs', async () => {
    // needs_import without its import: no thread starts until a call, and that thread fails.
    const worker = await startWorker({
      wasmFile: fixture('needs_import'),
      threads: undefined,
      minThreads: 0,
      maxThreads: 2,
      idleTimeoutMs: 100,
    });
    for (let i = 0; i < 3; i++) {
      const calls = [0, 1].map((n) => worker.callFunction('echo', { data: n }));
      for (const call of calls) await rejectsWithCode(call, 'ERR_WASM_INSTANTIATE');
    }
    expect(worker.state).toBe('running');
    expect(worker.stats()).toMatchObject({ restarts: 0, queued: 0, running: 0 });
  });

  it('rejects bad thread bounds with ERR_INVALID_ARGUMENT', async () => {
    const start = (options: Record<string, unknown>) =>
      Worker.start({ wasmFile: WASM_TEST, ...options });
    await rejectsWithCode(start({ minThreads: -1 }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(start({ maxThreads: 0 }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(start({ minThreads: 1.5 }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(start({ minThreads: 3, maxThreads: 2 }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(start({ threads: 2, maxThreads: 4 }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(start({ idleTimeoutMs: 0 }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(start({ idleTimeoutMs: 'soon' }), 'ERR_INVALID_ARGUMENT');
  });

  it('threads stays the shorthand for a fixed pool', async () => {
    const worker = await startWorker({ threads: 2 });
    expect(threadsOf(worker)).toMatchObject({ target: 2, min: 2, max: 2 });
  });
});
