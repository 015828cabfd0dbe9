import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { fixture, rejectsWithCode, throwsWithCode } from './helpers.js';
import { startWorker } from './pool-helpers.js';

/** @wapc/as-guest's handleAbort: __guest_error("abort: ..."), then `unreachable`. */
const AS_GUEST = fixture('wapc_as_guest');
/** An AssemblyScript waPC guest importing env.abort (no abort handler of its own). */
const AS_ENV_ABORT = fixture('wapc_as_env_abort');
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const AS_MESSAGE = 'abort: No payload at assembly/index.ts:16:3';

describe('a waPC guest that reports __guest_error and then traps', () => {
  it("fails with ERR_GUEST_ERROR carrying the guest's message, the trap as its cause", async () => {
    const bridge = Wasmtube.fromFile(AS_GUEST);
    const error = await rejectsWithCode(bridge.invoke('nope', Buffer.from('x')), 'ERR_GUEST_ERROR');
    expect(error.message).toContain(AS_MESSAGE);
    expect(error.details).toMatchObject({
      operation: 'nope',
      guestMessage: AS_MESSAGE,
      trap: 'unreachable',
    });
    expect(error.cause).toMatchObject({ code: 'ERR_GUEST_TRAP' });
    // The trap reset the instance; the next call runs on a fresh one.
    expect(bridge.instanceGeneration).toBe(2);
    expect(text(await bridge.invoke('echo', Buffer.from('after')))).toBe('after');
  });

  it('stays ERR_GUEST_TRAP when the guest trapped without reporting anything', async () => {
    const bridge = Wasmtube.fromFile(AS_GUEST);
    const error = await rejectsWithCode(bridge.invoke('trap'), 'ERR_GUEST_TRAP');
    expect(error.details.guestMessage).toBeUndefined();
    // An error reported on an earlier call is not carried into a later trap.
    await rejectsWithCode(bridge.invoke('no_such_op'), 'ERR_GUEST_ERROR');
    await rejectsWithCode(bridge.invoke('trap'), 'ERR_GUEST_TRAP');
  });

  it('stays ERR_MEMORY_LIMIT when the guest ran out of memory, with its message', async () => {
    const bridge = Wasmtube.fromFile(AS_GUEST, { maxMemoryMb: 1 });
    const error = await rejectsWithCode(bridge.invoke('oom'), 'ERR_MEMORY_LIMIT');
    expect(error.details.guestMessage).toBe('abort: Out of memory at ~lib/rt/tlsf.ts:497:16');
    expect(error.details.maxPages).toBe(16);
    expect(text(await bridge.invoke('echo', Buffer.from('fresh')))).toBe('fresh');
  });

  it('keeps returning 0 with __guest_error as it was (the instance is kept)', async () => {
    const bridge = Wasmtube.fromFile(AS_GUEST);
    const error = await rejectsWithCode(bridge.invoke('no_such_op'), 'ERR_GUEST_ERROR');
    expect(error.details.guestMessage).toBe('Could not find function no_such_op');
    expect(error.details.trap).toBeUndefined();
    expect(bridge.instanceGeneration).toBe(1);
  });
});

describe("a waPC guest calling AssemblyScript's env.abort", () => {
  it('instantiates (wasmtube provides env.abort) and reports the decoded abort message', async () => {
    const bridge = Wasmtube.fromFile(AS_ENV_ABORT);
    expect(text(await bridge.invoke('echo', Buffer.from('hi')))).toBe('hi');
    const error = await rejectsWithCode(bridge.invoke('nope'), 'ERR_GUEST_ERROR');
    const message = 'abort: No payload, café at assembly/index.ts:16:3';
    expect(error.message).toContain(message);
    expect(error.details).toMatchObject({
      guestMessage: message,
      abort: { message: 'No payload, café', fileName: 'assembly/index.ts', line: 16, column: 3 },
    });
    expect(error.cause).toMatchObject({ code: 'ERR_GUEST_TRAP' });
    expect(text(await bridge.invoke('echo', Buffer.from('again')))).toBe('again');
  });

  it('prefers the __guest_error message, and keeps the abort in details', async () => {
    const bridge = Wasmtube.fromFile(AS_ENV_ABORT);
    const error = await rejectsWithCode(bridge.invoke('error_then_abort'), 'ERR_GUEST_ERROR');
    expect(error.details.guestMessage).toBe('explicit message');
    expect(error.details.abort).toMatchObject({ line: 20, column: 5 });
  });

  it('copes with null strings and pointers outside memory', async () => {
    const bridge = Wasmtube.fromFile(AS_ENV_ABORT);
    const nulls = await rejectsWithCode(bridge.invoke('null_abort'), 'ERR_GUEST_ERROR');
    expect(nulls.details.abort).toEqual({ message: null, fileName: null, line: 1, column: 2 });
    const bad = await rejectsWithCode(bridge.invoke('bad_abort'), 'ERR_GUEST_ERROR');
    expect(bad.details.abort).toMatchObject({ fileName: 'assembly/index.ts', line: 7 });
    await rejectsWithCode(bridge.invoke('other'), 'ERR_GUEST_TRAP');
  });

  it("uses the caller's own env.abort when one is granted", async () => {
    const seen: number[][] = [];
    const bridge = Wasmtube.fromFile(AS_ENV_ABORT, {
      imports: { env: { abort: (...args: number[]) => void seen.push(args) } },
    });
    // The caller's abort returns, so the guest reaches its `unreachable`: a plain trap.
    await rejectsWithCode(bridge.invoke('nope'), 'ERR_GUEST_TRAP');
    expect(seen).toEqual([[1044, 1108, 16, 3]]);
  });

  it('is not provided to modules that are not waPC guests', () => {
    throwsWithCode(() => Wasmtube.fromFile(fixture('needs_import')), 'ERR_WASM_INSTANTIATE');
  });
});

describe('guest errors after a trap, in a Worker', () => {
  it('cross the thread with code, message, details and cause', async () => {
    const worker = await startWorker({ wasmFile: AS_GUEST, threads: 1 });
    const error = await rejectsWithCode(
      worker.callFunction('nope', { bytes: Buffer.from('x') }),
      'ERR_GUEST_ERROR',
    );
    expect(error.message).toContain(AS_MESSAGE);
    expect(error.details).toMatchObject({ guestMessage: AS_MESSAGE, trap: 'unreachable' });
    expect(error.cause).toMatchObject({ code: 'ERR_GUEST_TRAP' });
    await rejectsWithCode(
      worker.callFunction('trap', { bytes: Buffer.alloc(0) }),
      'ERR_GUEST_TRAP',
    );
    expect(text(await worker.callFunction('echo', { bytes: Buffer.from('ok') }))).toBe('ok');

    const abortWorker = await startWorker({ wasmFile: AS_ENV_ABORT, threads: 1 });
    const aborted = await rejectsWithCode(
      abortWorker.callFunction('nope', { bytes: Buffer.alloc(0) }),
      'ERR_GUEST_ERROR',
    );
    expect(aborted.details.abort).toMatchObject({ message: 'No payload, café', line: 16 });
  });
});
