import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Worker } from '../dist/index.js';
import { expectedGray, gradient, pngOf, rejectsWithCode } from './helpers.js';
import { roundsFor, startWorker } from './pool-helpers.js';

describe('Worker calls', () => {
  it('has the bridge semantics: JSON, bytes, typed errors', async () => {
    const worker = await startWorker();
    expect(worker.version).toBe(0);
    expect(await worker.callFunction('echo', { data: { args: 'Hello World!' } })).toEqual({
      args: 'Hello World!',
    });
    const bytes = await worker.callFunction('echo', { bytes: Buffer.from('[1,2]') });
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes.toString()).toBe('[1,2]');
    const error = await rejectsWithCode(
      worker.callFunction('nope', { data: 1 }),
      'ERR_EXPORT_NOT_FOUND',
    );
    expect(error.details.available).toContain('echo');
    await rejectsWithCode(worker.callFunction('garbage_output', { data: 1 }), 'ERR_RESULT_DECODE');
    await rejectsWithCode(
      worker.callFunction('negative_length', { data: 1 }),
      'ERR_RESULT_OUT_OF_BOUNDS',
    );
    await rejectsWithCode(worker.callFunction('echo', { data: 1n }), 'ERR_INPUT_ENCODE');
    await rejectsWithCode(
      worker.callFunction('echo', { image: 'x' } as never),
      'ERR_INVALID_ARGUMENT',
    );
    const stats = worker.stats();
    expect(stats.completed).toBe(2);
    expect(stats.failedByCode).toEqual({
      ERR_EXPORT_NOT_FOUND: 1,
      ERR_RESULT_DECODE: 1,
      ERR_RESULT_OUT_OF_BOUNDS: 1,
      ERR_INPUT_ENCODE: 1,
      ERR_INVALID_ARGUMENT: 1,
    });
    expect(stats.restarts).toBe(0);
  });

  it('runs calls on two threads at the same time', async () => {
    const worker = await startWorker({ threads: 2 });
    const rounds = roundsFor(150);
    const [a, b] = await Promise.all([
      worker.callFunctionWithInfo('work', { data: { rounds } }),
      worker.callFunctionWithInfo('work', { data: { rounds } }),
    ]);
    expect(a.result).toEqual(b.result);
    expect(a.info.threadId).not.toBe(b.info.threadId);
    // Overlap of the intervals measured inside the threads.
    expect(a.info.startedAt).toBeLessThan(b.info.finishedAt);
    expect(b.info.startedAt).toBeLessThan(a.info.finishedAt);
  });

  it('does not leave quick calls stuck behind a slow one while a thread is idle', async () => {
    const worker = await startWorker({ threads: 2, pipelineDepth: 8 });
    const slow = worker.callFunctionWithInfo('work', { data: { rounds: roundsFor(300) } });
    const quick = Array.from({ length: 8 }, (_, i) =>
      worker.callFunctionWithInfo('echo', { data: i }),
    );
    const slowDone = await slow;
    const quickDone = await Promise.all(quick);
    for (const { info } of quickDone) {
      expect(info.threadId).not.toBe(slowDone.info.threadId);
      expect(info.finishedAt).toBeLessThan(slowDone.info.finishedAt);
    }
  });

  it("passes a 1080p image in and out without touching the caller's buffer", async () => {
    const worker = await startWorker();
    const rgb = gradient(1920, 1080);
    const size = await worker.callFunction('image_size', { image: rgb, width: 1920, height: 1080 });
    expect(size).toEqual({ width: 1920, height: 1080 });
    const gray = await worker.callFunction(
      'grayscale',
      { image: rgb, width: 1920, height: 1080 },
      { returns: 'rgb' },
    );
    expect(rgb.byteLength).toBe(1920 * 1080 * 3); // not detached
    expect(Buffer.isBuffer(gray.pixels)).toBe(true);
    expect(Buffer.compare(gray.pixels, expectedGray(rgb))).toBe(0);
  });

  it('decodes PNGs in the thread and returns encoded images', async () => {
    const worker = await startWorker();
    const png = await pngOf(300, 200);
    expect(await worker.callFunction('image_size', { image: png })).toEqual({
      width: 300,
      height: 200,
    });
    const out = await worker.callFunction('invert', { image: png }, { returns: 'png' });
    expect(Buffer.isBuffer(out)).toBe(true);
    expect((await sharp(out).metadata()).width).toBe(300);
    await rejectsWithCode(
      worker.callFunction('image_size', { image: png.subarray(0, 50) }),
      'ERR_IMAGE_DECODE',
    );
  });

  it('keeps per-thread state between calls on one thread', async () => {
    const worker = await startWorker({ threads: 1 });
    for (let n = 1; n <= 3; n++) {
      expect(await worker.callFunction('count', { data: null })).toEqual({ count: n });
    }
  });

  it('a trap resets the instance in place, without replacing the thread', async () => {
    const worker = await startWorker({ threads: 1 });
    const traps: unknown[] = [];
    worker.on('trap', (event) => traps.push(event));
    await worker.callFunction('count', { data: null });
    const before = await worker.callFunctionWithInfo('count', { data: null });
    await rejectsWithCode(worker.callFunction('trap', { data: null }), 'ERR_GUEST_TRAP');
    const after = await worker.callFunctionWithInfo('count', { data: null });
    expect(after.result).toEqual({ count: 1 });
    expect(after.info.threadId).toBe(before.info.threadId);
    expect(traps).toHaveLength(1);
    expect(worker.stats()).toMatchObject({
      restarts: 0,
      traps: 1,
      failedByCode: { ERR_GUEST_TRAP: 1 },
    });
  });

  it('recycles instances after maxCallsPerInstance calls without failing any', async () => {
    const worker = await startWorker({ threads: 1, maxCallsPerInstance: 2 });
    const counts = [];
    for (let i = 0; i < 5; i++) counts.push(await worker.callFunction('count', { data: null }));
    expect(counts).toEqual([{ count: 1 }, { count: 2 }, { count: 1 }, { count: 2 }, { count: 1 }]);
  });

  it('recycles an instance whose memory grew past recycleMemoryMb', async () => {
    const worker = await startWorker({ threads: 1, recycleMemoryMb: 8 });
    await worker.callFunction('count', { data: null });
    expect(await worker.callFunction('count', { data: null })).toEqual({ count: 2 });
    await worker.callFunction('echo', { data: 'x'.repeat(8 * 1024 * 1024) });
    expect(await worker.callFunction('count', { data: null })).toEqual({ count: 1 });
  });

  it('rejects calls past maxQueue with ERR_QUEUE_FULL, and serves the rest', async () => {
    const worker = await startWorker({ threads: 1, maxQueue: 2 });
    const slow = { data: { rounds: roundsFor(100) } };
    const accepted = [1, 2, 3].map(() => worker.callFunction('work', slow));
    await rejectsWithCode(worker.callFunction('work', slow), 'ERR_QUEUE_FULL');
    await expect(Promise.all(accepted)).resolves.toHaveLength(3);
    expect(worker.stats().failedByCode).toEqual({ ERR_QUEUE_FULL: 1 });
  });

  it('rejects bad options', async () => {
    await rejectsWithCode(Worker.start({} as never), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(
      Worker.start({ wasmFile: 'a', wasmBinary: new Uint8Array() }),
      'ERR_INVALID_ARGUMENT',
    );
    await rejectsWithCode(Worker.start({ wasmFile: 'x.wasm', threads: 0 }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(
      Worker.start({ wasmFile: 'x.wasm', timeout: 5 } as never),
      'ERR_INVALID_ARGUMENT',
    );
    await rejectsWithCode(Worker.start({ wasmFile: '/no/such.wasm' }), 'ERR_WASM_FILE_NOT_FOUND');
    await rejectsWithCode(
      Worker.start({ wasmFile: 'x.wasm', pipelineDepth: 0 }),
      'ERR_INVALID_ARGUMENT',
    );
    await rejectsWithCode(Worker.start({ wasmFile: 'x.wasm', spinUs: -1 }), 'ERR_INVALID_ARGUMENT');
    const worker = await startWorker({ threads: 1 });
    await rejectsWithCode(
      worker.callFunction('echo', { data: 1 }, { timeoutMs: -1 }),
      'ERR_INVALID_ARGUMENT',
    );
    await rejectsWithCode(
      worker.callFunction('echo', { data: 1 }, { retry: 1.5 }),
      'ERR_INVALID_ARGUMENT',
    );
  });
});
