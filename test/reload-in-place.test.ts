import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { versionGuest, wat } from './guests.js';
import { rejectsWithCode, wasmTestBytes } from './helpers.js';
import { eventually, roundsFor, startWorker } from './pool-helpers.js';

const which = { data: null };
const countingImports = fileURLToPath(
  new URL('./fixtures/hosts/counting-imports.mjs', import.meta.url),
);

const exitOnSecondInstance = fileURLToPath(
  new URL('./fixtures/hosts/exit-on-second-instance.mjs', import.meta.url),
);

describe('reloads switch the running threads in place', () => {
  it('a thread exiting while it prepares proves nothing: new threads must probe the version', async () => {
    const worker = await startWorker({
      wasmBinary: versionGuest(1),
      importsModule: exitOnSecondInstance,
      probe: { fn: 'which', input: which },
      spareThreads: 0,
    });
    // Every thread dies preparing; the version's probe fails on the new threads started for it.
    const error = await rejectsWithCode(
      worker.reload(versionGuest(2, { trap: true })),
      'ERR_RELOAD_REJECTED',
    );
    expect((error.cause as { code: string }).code).toBe('ERR_PROBE_FAILED');
    expect(worker.version).toBe(0);
    await eventually(() => worker.stats().threads.ready === 2, 'the threads to be replaced');
    expect(await worker.callFunction('which', which)).toEqual({ v: 1 });
  });

  it('keeps the threads: the new version runs on the same threads, no restart', async () => {
    const probe = { fn: 'which', input: which };
    const worker = await startWorker({ wasmBinary: versionGuest(1), threads: 2, probe });
    // The spare finishes starting after start() resolves; one still starting would be replaced.
    await eventually(() => worker.stats().threads.spare >= 1, 'the spare thread');
    const exits: unknown[] = [];
    worker.on('exit', (event) => exits.push(event));
    const before = await Promise.all(
      Array.from({ length: 8 }, () => worker.callFunctionWithInfo('which', which)),
    );
    const threads = new Set(before.map(({ info }) => info.threadId));
    await worker.reload(versionGuest(2));
    const after = await Promise.all(
      Array.from({ length: 8 }, () => worker.callFunctionWithInfo('which', which)),
    );
    for (const { result, info } of after) {
      expect(result).toEqual({ v: 2 });
      expect(info.version).toBe(1);
      expect(threads.has(info.threadId)).toBe(true);
    }
    // A version whose probe fails in the threads leaves them as they were.
    const error = await rejectsWithCode(
      worker.reload(versionGuest(3, { trap: true })),
      'ERR_RELOAD_REJECTED',
    );
    expect((error.cause as { code: string }).code).toBe('ERR_PROBE_FAILED');
    expect((await worker.callFunction('which', which)) as unknown).toEqual({ v: 2 });
    await worker.reload(versionGuest(4));
    const last = await worker.callFunctionWithInfo('which', which);
    expect(last.result).toEqual({ v: 4 });
    expect(threads.has(last.info.threadId)).toBe(true);
    expect(exits).toEqual([]);
    expect(worker.stats().restarts).toBe(0);
  });

  it('calls already posted to a thread run on the new version once it switched', async () => {
    const worker = await startWorker({ threads: 1 });
    const work = (ms: number) =>
      worker.callFunctionWithInfo('work', { data: { rounds: roundsFor(ms) } });
    const slow = work(30);
    const queued = Array.from({ length: 12 }, () => work(5));
    const reloading = worker.reload(wasmTestBytes());
    await reloading;
    const switchedBy = performance.timeOrigin + performance.now();
    const made = await worker.callFunctionWithInfo('echo', { data: 'after' });
    expect((await slow).info.version).toBe(0);
    const versions = (await Promise.all(queued)).map(({ info }) => {
      // Every call that started after reload() resolved ran on the new version.
      if (info.startedAt >= switchedBy) expect(info.version).toBe(1);
      return info.version;
    });
    // Versions never go back, and the switch reached calls that were already waiting there.
    expect(versions).toEqual([...versions].sort());
    expect(versions).toContain(1);
    expect(made.info.version).toBe(1);
  });

  it('swaps in new threads when a thread is busy too long to switch, losing no call', async () => {
    const worker = await startWorker({ threads: 1 });
    const first = await worker.callFunctionWithInfo('echo', { data: 1 });
    const slow = worker.callFunctionWithInfo('work', { data: { rounds: roundsFor(600) } });
    await eventually(() => worker.stats().running === 1, 'the slow call to start');
    await worker.reload(wasmTestBytes());
    const after = await worker.callFunctionWithInfo('echo', { data: 2 });
    expect(after.info.version).toBe(1);
    expect(after.info.threadId).not.toBe(first.info.threadId);
    const done = await slow;
    expect(done.info.version).toBe(0);
    expect(done.result).toMatchObject({ rounds: roundsFor(600) });
  });

  it('a thread still starting with the old version switches to the new one before serving', async () => {
    const worker = await startWorker({ threads: 1, spareThreads: 1 });
    const reasons: string[] = [];
    worker.on('restart', (event) => reasons.push(event.reason));
    const versions = new Set<number>();
    for (let round = 1; round <= 3; round++) {
      // The serving thread times out: the spare takes over and a replacement starts...
      await rejectsWithCode(
        worker.callFunction('endless_loop', { data: null }, { timeoutMs: 50 }),
        'ERR_CALL_TIMEOUT',
      );
      // ...while the threads switch to a new version.
      await worker.reload(wasmTestBytes());
      for (let i = 0; i < 5; i++) {
        versions.add((await worker.callFunctionWithInfo('echo', { data: i })).info.version);
      }
      await eventually(() => worker.stats().threads.spare >= 1, 'the replacement thread');
    }
    expect([...versions]).toEqual([1, 2, 3]);
    // Whichever thread serves now (the replacement included) serves the last version, and no
    // thread was given up on.
    expect(reasons).not.toContain('reload');
    await rejectsWithCode(
      worker.callFunction('endless_loop', { data: null }, { timeoutMs: 50 }),
      'ERR_CALL_TIMEOUT',
    );
    const last = await worker.callFunctionWithInfo('echo', { data: 'last' });
    expect(last.info.version).toBe(3);
  });

  it('runs the imports factory again for the new version, in the same thread', async () => {
    const guest = wat(`(module (import "env" "n" (func $n (result i32)))
      (memory (export "memory") 1)
      (func (export "echo") (param i32 i32) (result i32) (local.get 1))
      (func (export "n") (param i32 i32) (result i32) (call $n)))`);
    const worker = await startWorker({
      wasmBinary: guest,
      threads: 1,
      importsModule: countingImports,
    });
    const input = { bytes: Buffer.alloc(16) };
    const first = await worker.callFunctionWithInfo('n', input);
    await worker.reload(guest);
    const second = await worker.callFunctionWithInfo('n', input);
    expect(second.info.threadId).toBe(first.info.threadId);
    expect((second.result as Buffer).length).toBe((first.result as Buffer).length + 1);
    expect(second.info.version).toBe(1);
  });
});
