import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { versionGuest, wat } from './guests.js';
import { rejectsWithCode } from './helpers.js';
import { eventually, nextEvent, runScript, DIST, startWorker } from './pool-helpers.js';

describe('reload on demand, probes and rollback', () => {
  it('reload(bytes) swaps a binary-started worker; reload() without bytes needs a file', async () => {
    const worker = await startWorker({ wasmBinary: versionGuest(1), threads: 2 });
    expect(await worker.callFunction('which', { data: null })).toEqual({ v: 1 });
    const result = await worker.reload(versionGuest(2));
    expect(result).toMatchObject({ from: 0, to: 1 });
    expect(result.durationMs).toBeGreaterThan(0);
    expect(worker.version).toBe(1);
    expect(await worker.callFunction('which', { data: null })).toEqual({ v: 2 });
    await rejectsWithCode(worker.reload(), 'ERR_RELOAD_REJECTED');
  });

  it('requireExports: false allows a version without some functions', async () => {
    const worker = await startWorker({
      wasmBinary: versionGuest(1, { extra: 'old_fn' }),
      requireExports: false,
    });
    await worker.reload(versionGuest(2));
    await rejectsWithCode(worker.callFunction('old_fn', { data: 1 }), 'ERR_EXPORT_NOT_FOUND');
  });

  it('a version that does not instantiate is rejected, and the old one serves', async () => {
    const worker = await startWorker({ wasmBinary: versionGuest(1) });
    const needsImport = wat(`(module (import "env" "f" (func)) (memory (export "memory") 1)
      (func (export "echo") (param i32 i32) (result i32) (local.get 1))
      (func (export "boom") (param i32 i32) (result i32) (local.get 1))
      (func (export "which") (param i32 i32) (result i32) (local.get 1)))`);
    const error = await rejectsWithCode(worker.reload(needsImport), 'ERR_RELOAD_REJECTED');
    expect((error.cause as { code: string }).code).toBe('ERR_WASM_INSTANTIATE');
    expect(worker.version).toBe(0);
    expect(await worker.callFunction('which', { data: null })).toEqual({ v: 1 });
    expect(worker.stats().threads.ready).toBe(2);
  });

  it('a probe must pass on every new instance, at start and on reload', async () => {
    const probe = { fn: 'which', input: { data: null } };
    await rejectsWithCode(
      startWorker({ wasmBinary: versionGuest(1, { trap: true }), probe }),
      'ERR_PROBE_FAILED',
    );
    const worker = await startWorker({ wasmBinary: versionGuest(1), probe });
    const error = await rejectsWithCode(
      worker.reload(versionGuest(2, { trap: true })),
      'ERR_RELOAD_REJECTED',
    );
    expect((error.cause as { code: string }).code).toBe('ERR_PROBE_FAILED');
    expect(await worker.callFunction('which', { data: null })).toEqual({ v: 1 });
  });

  it('rolls back a version that fails right after deploy, and refuses that content again', async () => {
    const worker = await startWorker({
      wasmBinary: versionGuest(1),
      threads: 1,
      rollback: { minCalls: 3, minUptimeMs: 60_000 },
    });
    const bad = versionGuest(2, { trap: true });
    await worker.reload(bad);
    const rollback = nextEvent<{ from: number; to: number }>(worker, 'rollback');
    for (let i = 0; i < 3; i++) {
      await rejectsWithCode(worker.callFunction('which', { data: null }), 'ERR_GUEST_TRAP');
    }
    expect(await rollback).toEqual(expect.objectContaining({ from: 1, to: 2 }));
    await eventually(() => worker.version === 2, 'the rollback to take traffic');
    expect(await worker.callFunction('which', { data: null })).toEqual({ v: 1 });
    const refused = await rejectsWithCode(worker.reload(bad), 'ERR_RELOAD_REJECTED');
    expect(refused.message).toContain('rolled back');
    expect((await worker.reload(versionGuest(3))).to).toBe(3);
    expect(await worker.callFunction('which', { data: null })).toEqual({ v: 3 });
  });

  it('judges a new version by its failure rate against the previous one, not by a count', async () => {
    const worker = await startWorker({ wasmBinary: versionGuest(1), threads: 2 });
    const rollbacks: { from: number; calls: number; failures: number }[] = [];
    worker.on('rollback', (event) => rollbacks.push(event));
    // Every 20th call sends input the guest rejects by trapping, whatever the version: 5%.
    let sent = 0;
    const load = async (calls: number) => {
      const outcomes = await Promise.all(
        Array.from({ length: calls }, () =>
          (sent++ % 20 === 0
            ? worker.callFunction('boom', { data: null })
            : worker.callFunction('which', { data: null })
          ).then(
            () => 'ok',
            (error: { code: string }) => error.code,
          ),
        ),
      );
      return outcomes.filter((outcome) => outcome !== 'ok');
    };
    await load(200);
    for (let v = 2; v <= 16; v++) {
      await worker.reload(versionGuest(v));
      expect(await load(100)).toEqual(Array(5).fill('ERR_GUEST_TRAP'));
    }
    expect(rollbacks).toEqual([]);
    expect(worker.version).toBe(15);
    // A version failing far more often than its predecessor goes back.
    const rolledBack = nextEvent<{ from: number; to: number; calls: number }>(worker, 'rollback');
    await worker.reload(versionGuest(17, { trap: true }));
    await load(40);
    expect(await rolledBack).toMatchObject({ from: 16, to: 17, baselineRate: 0.05 });
    await eventually(() => worker.version === 17, 'the rollback to take traffic');
    expect(await worker.callFunction('which', { data: null })).toEqual({ v: 16 });
  });

  it('validates rollback options and names the retired maxFailures', async () => {
    for (const rollback of [{ maxFailures: 3 }, { minCalls: 0 }, { maxRateIncrease: 2 }, 'yes']) {
      const error = await rejectsWithCode(
        startWorker({ wasmBinary: versionGuest(1), rollback } as never),
        'ERR_INVALID_ARGUMENT',
      );
      expect(error.message).toContain('rollback');
    }
  });

  it('a stopped watching worker leaves no thread or watcher behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtube-leak-'));
    const file = join(dir, 'guest.wasm');
    writeFileSync(file, versionGuest(1));
    const { code, output } = await runScript(`
      import { writeFileSync } from 'node:fs';
      import { Worker } from ${JSON.stringify(DIST)};
      const worker = await Worker.start({ wasmFile: ${JSON.stringify(file)}, threads: 2 });
      const reloaded = new Promise((resolve) => worker.once('reload', resolve));
      writeFileSync(${JSON.stringify(file)}, Buffer.from(${JSON.stringify([...versionGuest(2)])}));
      await reloaded;
      console.log(JSON.stringify(await worker.callFunction('which', { data: null })));
      await worker.stop();`);
    expect(output).toBe('{"v":2}');
    expect(code).toBe(0);
  });
});
