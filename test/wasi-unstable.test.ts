import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { fixture, rejectsWithCode, throwsWithCode } from './helpers.js';
import { startWorker } from './pool-helpers.js';

/** Imports fd_write and proc_exit from `wasi_unstable` (WASI snapshot 0, older TinyGo). */
const UNSTABLE = fixture('wasi_unstable');
const UNSTABLE_CMD = fixture('wasi_unstable_cmd');
/** A waPC guest as older TinyGo builds it: wasi_unstable, `_start`, `__guest_call`. */
const TINYGO_WAPC = fixture('wapc_tinygo_unstable');
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe('guests importing wasi_unstable', () => {
  it('instantiate with the wasi option and write to the captured stdout', async () => {
    const bridge = Wasmtube.fromFile(UNSTABLE, { wasi: { stdout: 'capture' } });
    const said = await bridge.callFunction('say', { bytes: Buffer.from('old wasi\n') });
    expect(text(said as Uint8Array)).toBe('old wasi\n');
    expect(bridge.lastOutput).toEqual({ stdout: 'old wasi\n', stderr: '' });
    const exit = await rejectsWithCode(
      bridge.callFunction('quit', { bytes: Buffer.alloc(0) }),
      'ERR_GUEST_EXIT',
    );
    expect(exit.details.exitCode).toBe(3);
  });

  it('need the wasi option, as wasi_snapshot_preview1 guests do', () => {
    const error = throwsWithCode(() => Wasmtube.fromFile(UNSTABLE), 'ERR_WASM_INSTANTIATE');
    expect(error.details.missing).toContain('wasi_unstable.fd_write');
    expect(error.message).toContain('wasi');
  });

  it('refuse a module importing both wasi_unstable and wasi_snapshot_preview1', () => {
    const error = throwsWithCode(
      () => Wasmtube.fromFile(fixture('wasi_both'), { wasi: {} }),
      'ERR_WASM_INSTANTIATE',
    );
    expect(error.details.imports).toEqual([
      'wasi_unstable.fd_write',
      'wasi_snapshot_preview1.fd_write',
    ]);
  });

  it('run as commands', async () => {
    const bridge = Wasmtube.fromFile(UNSTABLE_CMD, { wasi: {} });
    expect(await bridge.run()).toEqual({
      exitCode: 3,
      stdout: 'hello from wasi_unstable\n',
      stderr: '',
    });
  });

  it('include TinyGo waPC guests, whose _start runs through WASI', async () => {
    const bridge = Wasmtube.fromFile(TINYGO_WAPC, { wasi: { stdout: 'capture' } });
    expect(text(await bridge.invoke('hello', Buffer.from('tinygo')))).toBe('hello, tinygo');
    expect(bridge.lastOutput.stdout).toBe('tinygo');
    await rejectsWithCode(bridge.invoke('other'), 'ERR_GUEST_ERROR');
  });

  it('work in a Worker', async () => {
    const worker = await startWorker({
      wasmFile: UNSTABLE,
      threads: 1,
      wasi: { stdout: 'capture' },
    });
    const { result, info } = await worker.callFunctionWithInfo('say', {
      bytes: Buffer.from('from a thread\n'),
    });
    expect(text(result as Uint8Array)).toBe('from a thread\n');
    expect(info.stdout).toBe('from a thread\n');
    await rejectsWithCode(
      worker.callFunction('quit', { bytes: Buffer.alloc(0) }),
      'ERR_GUEST_EXIT',
    );
    const wapc = await startWorker({
      wasmFile: TINYGO_WAPC,
      threads: 1,
      wasi: { stdout: 'capture' },
    });
    const hello = await wapc.callFunctionWithInfo('hello', { bytes: Buffer.from('pool') });
    expect(text(hello.result as Uint8Array)).toBe('hello, pool');
    expect(hello.info.stdout).toBe('pool');
    const run = await startWorker({ wasmFile: UNSTABLE_CMD, threads: 1, wasi: {} });
    expect(await run.run()).toMatchObject({ exitCode: 3, stdout: 'hello from wasi_unstable\n' });
  });
});
