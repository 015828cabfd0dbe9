import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { fixture, rejectsWithCode, throwsWithCode } from './helpers.js';
import { startWorker } from './pool-helpers.js';

const WASI_TEST = fixture('wasi_test');

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wasmtube-wasi-'));
  writeFileSync(join(dir, 'note.txt'), 'granted file');
  return dir;
}

describe('WASI reactor guests', () => {
  it('need the wasi option: nothing is granted implicitly', () => {
    const error = throwsWithCode(() => Wasmtube.fromFile(WASI_TEST), 'ERR_WASM_INSTANTIATE');
    expect(error.message).toContain('wasi');
  });

  it('see an env var only when granted', async () => {
    const none = Wasmtube.fromFile(WASI_TEST, { wasi: {} });
    expect(await none.callFunction('env_var', { data: { name: 'HOME' } })).toEqual({ value: null });
    expect(await none.callFunction('env_var', { data: { name: 'PATH' } })).toEqual({ value: null });
    const granted = Wasmtube.fromFile(WASI_TEST, { wasi: { env: { SHIFT: '5' } } });
    expect(await granted.callFunction('env_var', { data: { name: 'SHIFT' } })).toEqual({
      value: '5',
    });
    expect(await granted.callFunction('env_var', { data: { name: 'HOME' } })).toEqual({
      value: null,
    });
  });

  it('read a preopened directory, and nothing outside it', async () => {
    const dir = dataDir();
    const bridge = Wasmtube.fromFile(WASI_TEST, { wasi: { preopens: { '/data': dir } } });
    expect(await bridge.callFunction('read_file', { data: { path: '/data/note.txt' } })).toEqual({
      text: 'granted file',
    });
    for (const path of ['/etc/passwd', '/data/../../etc/passwd', join(dir, 'note.txt')]) {
      const result = await bridge.callFunction<{ error?: string }>('read_file', { data: { path } });
      expect(result.error).toBeTruthy();
    }
    const none = Wasmtube.fromFile(WASI_TEST, { wasi: {} });
    expect(
      await none.callFunction<{ error?: string }>('read_file', {
        data: { path: '/data/note.txt' },
      }),
    ).toHaveProperty('error');
  });

  it('proc_exit ends the call with ERR_GUEST_EXIT and the instance is recycled', async () => {
    const bridge = Wasmtube.fromFile(WASI_TEST, { wasi: {} });
    const error = await rejectsWithCode(
      bridge.callFunction('quit', { data: { code: 7 } }),
      'ERR_GUEST_EXIT',
    );
    expect(error.details.exitCode).toBe(7);
    expect(bridge.instanceGeneration).toBe(2);
    expect(await bridge.callFunction('echo', { data: 'alive' })).toBe('alive');
  });

  it('work the same in a Worker, whose threads stay useful after proc_exit', async () => {
    const dir = dataDir();
    const worker = await startWorker({
      wasmFile: WASI_TEST,
      threads: 1,
      wasi: { env: { SHIFT: '9' }, preopens: { '/data': dir } },
    });
    expect(await worker.callFunction('env_var', { data: { name: 'SHIFT' } })).toEqual({
      value: '9',
    });
    expect(await worker.callFunction('read_file', { data: { path: '/data/note.txt' } })).toEqual({
      text: 'granted file',
    });
    await rejectsWithCode(worker.callFunction('quit', { data: { code: 1 } }), 'ERR_GUEST_EXIT');
    expect(await worker.callFunction('echo', { data: 'alive' })).toBe('alive');
    expect(worker.stats().restarts).toBe(0);
  });

  it('rejects malformed wasi options', async () => {
    throwsWithCode(
      () => Wasmtube.fromFile(WASI_TEST, { wasi: { env: { A: 1 } } as never }),
      'ERR_INVALID_ARGUMENT',
    );
    throwsWithCode(
      () => Wasmtube.fromFile(WASI_TEST, { wasi: { args: 'x' } as never }),
      'ERR_INVALID_ARGUMENT',
    );
    await rejectsWithCode(
      startWorker({ wasmFile: WASI_TEST, wasi: 5 as never }),
      'ERR_INVALID_ARGUMENT',
    );
  });
});
