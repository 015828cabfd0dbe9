import { describe, expect, it } from 'vitest';
import { rejectsWithCode } from './helpers.js';
import { startWorker } from './pool-helpers.js';

// A Worker call made without options takes a shorter admission path (no option to check): it
// must still get the worker's defaults, the same typed errors, and the same counting.
describe('a Worker call without options', () => {
  it("runs with the worker's timeoutMs", async () => {
    const worker = await startWorker({ threads: 1, timeoutMs: 200 });
    await rejectsWithCode(worker.callFunction('endless_loop', { data: null }), 'ERR_CALL_TIMEOUT');
    expect(worker.stats().timeouts).toBe(1);
    // The pool recovered: a fresh thread serves the next call.
    expect(await worker.callFunction('echo', { data: 'after' })).toBe('after');
  });

  it("waits at most the worker's queueTimeoutMs", async () => {
    const worker = await startWorker({ threads: 1, timeoutMs: 1500, queueTimeoutMs: 100 });
    const loop = worker.callFunction('endless_loop', { data: null });
    await rejectsWithCode(worker.callFunction('echo', { data: 1 }), 'ERR_QUEUE_TIMEOUT');
    await rejectsWithCode(loop, 'ERR_CALL_TIMEOUT');
  });

  it('is the same call as one with undefined or empty options', async () => {
    const worker = await startWorker({ threads: 1 });
    const data = { list: [1, 'two', { three: 3 }], text: 'é' };
    expect(await worker.callFunction('echo', { data })).toEqual(data);
    expect(await worker.callFunction('echo', { data }, undefined)).toEqual(data);
    expect(await worker.callFunction('echo', { data }, {})).toEqual(data);
    const { result, info } = await worker.callFunctionWithInfo('echo', { data });
    expect(result).toEqual(data);
    expect(info.threadId).toBeGreaterThan(0);
    expect(worker.stats().completed).toBe(4);
  });

  it('still rejects bad input and names with typed errors, counted as failed', async () => {
    const worker = await startWorker({ threads: 1 });
    await rejectsWithCode(worker.callFunction('echo', {} as never), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(worker.callFunction('', { data: 1 }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(worker.callFunction('echo', { data: 1n }), 'ERR_INPUT_ENCODE');
    const stats = worker.stats();
    expect(stats.failed).toBe(3);
    expect(stats.failedByCode).toEqual({ ERR_INVALID_ARGUMENT: 2, ERR_INPUT_ENCODE: 1 });
    expect(await worker.callFunction('echo', { data: 2 })).toBe(2);
  });

  it('is refused once the worker stopped, with ERR_WORKER_STOPPED', async () => {
    const worker = await startWorker({ threads: 1, name: 'admission-stopped' });
    await worker.stop();
    const error = await rejectsWithCode(
      worker.callFunction('echo', { data: 1 }),
      'ERR_WORKER_STOPPED',
    );
    expect(String((error as Error).message)).toContain('"admission-stopped" is stopped');
    expect(worker.stats().failedByCode).toEqual({ ERR_WORKER_STOPPED: 1 });
  });
});

// Small inputs a call encoded itself (JSON data) cross in the task's clone; a caller's bytes are
// copied into a staging buffer that moves. Either way the caller's bytes stay whole and unchanged,
// and every call of a batch has its own input.
describe("a Worker call's input bytes", () => {
  it('stay usable by the caller, for calls in flight together and after', async () => {
    const worker = await startWorker({ threads: 1 });
    for (const size of [3, 4096, 4097, 300 * 1024]) {
      // JSON text of exactly `size` bytes (the guest's echo reads JSON).
      const input = new TextEncoder().encode(JSON.stringify('ab'.repeat(size).slice(0, size - 2)));
      const copy = Uint8Array.from(input);
      const results = await Promise.all([
        worker.callFunction('echo', { bytes: input }, { returns: 'bytes' }),
        worker.callFunction('echo', { bytes: input }, { returns: 'bytes' }),
      ]);
      for (const result of results) expect(Buffer.compare(result, copy)).toBe(0);
      expect(input.byteLength).toBe(size);
      expect(Buffer.compare(input, copy)).toBe(0);
    }
  });

  it('of data encoded by the call arrive per call, also in one batch and as a bytes result', async () => {
    const worker = await startWorker({ threads: 1 });
    const data = { text: 'x'.repeat(100) };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => worker.callFunction('echo', { data }, { returns: 'bytes' })),
    );
    for (const result of results) expect(result.toString()).toBe(JSON.stringify(data));
    expect(data.text.length).toBe(100);
  });
});
