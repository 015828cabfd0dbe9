import { afterEach, describe, expect, it } from 'vitest';
import { Worker as NodeWorker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { setBlankThreads, DEFAULT_BLANK_THREADS, type Worker } from '../dist/index.js';
import { availableParallelism } from 'node:os';
import { blankThreads } from '../dist/supervisor/blank-threads.js';
import { fixture, WASM_TEST } from './helpers.js';
import { DIST, eventually, nextEvent, runScript, startWorker } from './pool-helpers.js';

const HOST_MODULE = fileURLToPath(new URL('./fixtures/hosts/chaos-host.mjs', import.meta.url));

/**
 * The id the next thread started gets, minus one: thread ids only grow, so a call served by a
 * thread with a lower id ran on a thread booted before this moment (a blank one from the
 * reservoir), and a higher id means a thread booted for the call.
 */
async function threadIdNow(): Promise<number> {
  const marker = new NodeWorker('', { eval: true });
  const id = marker.threadId;
  await marker.terminate();
  return id;
}

/** A worker scaled to zero, at rest (unless options say otherwise). */
async function scaledToZero(options: Record<string, unknown> = {}): Promise<Worker> {
  const worker = await startWorker({
    threads: undefined,
    minThreads: 0,
    maxThreads: 2,
    idleTimeoutMs: 50,
    ...options,
  });
  if (worker.stats().threads.min === 0) expect(worker.stats().threads.alive).toBe(0);
  return worker;
}

/** Lets the reservoir boot its replacement threads. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

afterEach(() => setBlankThreads(DEFAULT_BLANK_THREADS));

describe('the reservoir of blank threads', () => {
  it('a call to a module scaled to zero runs on a blank thread booted before it', async () => {
    const worker = await scaledToZero();
    await settle();
    const before = await threadIdNow();
    const { result, info } = await worker.callFunctionWithInfo('echo', { data: 'cold' });
    expect(result).toBe('cold');
    expect(info.threadId).toBeLessThan(before);
  });

  it('is shared: after a claim it boots a replacement, which serves another module', async () => {
    const first = await scaledToZero();
    const second = await scaledToZero({ wasmFile: fixture('chaos'), hostModule: HOST_MODULE });
    await settle();
    let before = await threadIdNow();
    expect((await first.callFunctionWithInfo('echo', { data: 1 })).info.threadId).toBeLessThan(
      before,
    );
    await settle();
    before = await threadIdNow();
    const { result, info } = await second.callFunctionWithInfo('echo', { data: { two: 2 } });
    expect(result).toEqual({ two: 2 });
    expect(info.threadId).toBeLessThan(before);
  });

  it('0 disables it: the call boots its own thread', async () => {
    setBlankThreads(0);
    const worker = await scaledToZero();
    const before = await threadIdNow();
    const { info } = await worker.callFunctionWithInfo('echo', { data: 'booted' });
    expect(info.threadId).toBeGreaterThan(before);
  });

  it('a pool whose threads need resourceLimits boots its own', async () => {
    const worker = await scaledToZero({ resourceLimits: { maxOldGenerationSizeMb: 64 } });
    await settle();
    const before = await threadIdNow();
    const { info } = await worker.callFunctionWithInfo('echo', { data: 'limited' });
    expect(info.threadId).toBeGreaterThan(before);
  });

  it('a claimed thread that crashes is replaced by a thread on the module, not a blank one', async () => {
    const worker = await scaledToZero({
      wasmFile: fixture('chaos'),
      hostModule: HOST_MODULE,
      minThreads: 1,
      supervision: { maxRestarts: 100, periodMs: 1000 },
    });
    await settle();
    for (let i = 0; i < 3; i++) {
      const restart = nextEvent<{ reason: string }>(worker, 'restart');
      await expect(worker.callFunction('crash', { data: i })).rejects.toMatchObject({
        code: 'ERR_WORKER_EXITED',
      });
      expect(await restart).toMatchObject({ reason: 'crash' });
      await eventually(() => worker.stats().threads.ready >= 1, 'the thread replaced');
      expect(await worker.callFunction('echo', { data: { i } })).toEqual({ i });
    }
  });

  it('a reload reaches threads claimed later: they serve the new version', async () => {
    const worker = await scaledToZero({ maxThreads: 1 });
    await worker.reload((await import('node:fs')).readFileSync(WASM_TEST));
    await settle();
    const before = await threadIdNow();
    const { info } = await worker.callFunctionWithInfo('echo', { data: 3 });
    expect(info).toMatchObject({ version: 1 });
    expect(info.threadId).toBeLessThan(before);
  });

  it('a script using Worker.start with minThreads 0 exits by itself, blank threads and all', async () => {
    // No stop(): neither the pool's threads nor the reservoir's hold the process. (A worker
    // watching its wasmFile does, until stopped, as it always has: hence watch: false.)
    const { code, output } = await runScript(`
      import { Worker } from ${JSON.stringify(DIST)};
      const worker = await Worker.start({
        wasmFile: ${JSON.stringify(WASM_TEST)}, watch: false, minThreads: 0, maxThreads: 2, idleTimeoutMs: 100,
      });
      console.log(await worker.callFunction('echo', { data: 'served' }));
    `);
    expect(output).toBe('served');
    expect(code).toBe(0);
  });

  it("'auto' (the default) keeps the largest growth a live pool can make, at most one per core", async () => {
    expect(DEFAULT_BLANK_THREADS).toBe('auto');
    const small = await scaledToZero({ maxThreads: 1 });
    await eventually(() => blankThreads.available === 1, 'one blank thread for a pool of 0..1');
    const big = await scaledToZero({ maxThreads: 8 });
    const most = Math.min(8, availableParallelism());
    await eventually(() => blankThreads.available === most, `${most} for a pool of 0..8`);
    await big.stop();
    expect(blankThreads.available).toBe(1);
    // A fixed pool cannot grow: it asks for none.
    const fixed = await startWorker({ threads: 2 });
    await small.stop();
    expect(blankThreads.available).toBe(0);
    await fixed.stop();
    // A number fixes the size whatever the pools.
    setBlankThreads(3);
    const again = await scaledToZero({ maxThreads: 1 });
    await eventually(() => blankThreads.available === 3, 'three blank threads, as set');
    await again.stop();
    expect(blankThreads.available).toBe(3);
  });

  it('rejects a bad size with ERR_INVALID_ARGUMENT', () => {
    expect(() => setBlankThreads('auto')).not.toThrow();
    for (const size of [-1, 1.5, 65, '1', 'Auto', Number.NaN]) {
      expect(() => setBlankThreads(size as number)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
