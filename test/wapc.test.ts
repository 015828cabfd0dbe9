import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Wasmtube, type WapcHostCall } from '../dist/index.js';
import { fixture, rejectsWithCode, throwsWithCode } from './helpers.js';
import { startWorker } from './pool-helpers.js';

const WAPC = fixture('wapc_test');
const WAPC_WASI = fixture('wapc_wasi_test');
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe('waPC guests, in-process', () => {
  it('are detected and run wapc_init once', async () => {
    const bridge = Wasmtube.fromFile(WAPC);
    expect(bridge.exports().find((e) => e.name === '__guest_call')?.convention).toBe('wapc');
    expect(text(await bridge.invoke('init_calls'))).toBe('1');
    expect(text(await bridge.invoke('echo', Buffer.from('payload bytes')))).toBe('payload bytes');
  });

  it('call the host through __host_call, with the binding, namespace and operation', async () => {
    const seen: string[] = [];
    const hostCall: WapcHostCall = (binding, namespace, operation, payload) => {
      seen.push(`${binding}/${namespace}/${operation}:${payload.toString()}`);
      return `pong to ${payload.toString()}`;
    };
    const bridge = Wasmtube.fromFile(WAPC, { hostCall });
    expect(text(await bridge.invoke('ping_host', Buffer.from('hi')))).toBe('pong to hi');
    const request = { binding: 'b', namespace: 'n', operation: 'o', payload: 'p' };
    expect(text(await bridge.invoke('host_op', Buffer.from(JSON.stringify(request))))).toBe(
      'pong to p',
    );
    expect(seen).toEqual(['test/ns/pong:hi', 'b/n/o:p']);
  });

  it("delivers the host callback's error to the guest through __host_error", async () => {
    const bridge = Wasmtube.fromFile(WAPC, {
      hostCall: () => {
        throw new Error('database offline');
      },
    });
    const error = await rejectsWithCode(
      bridge.invoke('ping_host', Buffer.from('x')),
      'ERR_GUEST_ERROR',
    );
    expect(error.details.guestMessage).toBe('host said: database offline');
    const none = Wasmtube.fromFile(WAPC);
    await rejectsWithCode(none.invoke('ping_host', Buffer.from('x')), 'ERR_GUEST_ERROR');
  });

  it('turn guest errors and unknown operations into ERR_GUEST_ERROR', async () => {
    const bridge = Wasmtube.fromFile(WAPC);
    const failed = await rejectsWithCode(
      bridge.invoke('fail', Buffer.from('on purpose')),
      'ERR_GUEST_ERROR',
    );
    expect(failed.details.guestMessage).toBe('fail: on purpose');
    const unknown = await rejectsWithCode(bridge.invoke('no_such_op'), 'ERR_GUEST_ERROR');
    expect(unknown.details.guestMessage).toContain('unknown operation');
    await rejectsWithCode(bridge.invoke('trap'), 'ERR_GUEST_TRAP');
    expect(text(await bridge.invoke('init_calls'))).toBe('1'); // a fresh instance, initialised again
  });

  it('carry JSON with callFunction and MessagePack payloads', async () => {
    const bridge = Wasmtube.fromFile(WAPC);
    expect(await bridge.callFunction('json_sum', { data: { a: 2, b: 40 } })).toEqual({ sum: 42 });
    expect(
      await bridge.callFunction('msgpack_double', { data: { n: 21 }, codec: 'msgpack' }),
    ).toEqual({ n: 42 });
    expect(unpack(await bridge.invoke('msgpack_double', pack({ n: 5 })))).toEqual({ n: 10 });
    await rejectsWithCode(
      bridge.callFunction('json_sum', { image: Buffer.alloc(3), width: 1, height: 1 }),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('log through __console_log to the logger option', async () => {
    const lines: string[] = [];
    const bridge = Wasmtube.fromFile(WAPC, { logger: (line) => lines.push(line) });
    expect(text(await bridge.invoke('log', Buffer.from('hello log')))).toBe('logged');
    expect(lines).toEqual(['hello log']);
  });

  it('refuse an async host callback in-process', async () => {
    const bridge = Wasmtube.fromFile(WAPC, { hostCall: async () => 'late' });
    await rejectsWithCode(bridge.invoke('ping_host', Buffer.from('x')), 'ERR_GUEST_ERROR');
    throwsWithCode(
      () => Wasmtube.fromFile(WAPC, { hostCall: 'nope' as never }),
      'ERR_INVALID_ARGUMENT',
    );
  });
});

describe('waPC guests in a Worker', () => {
  it('call an async main-thread host callback and log to a main-thread logger', async () => {
    const lines: string[] = [];
    const worker = await startWorker({
      wasmFile: WAPC,
      threads: 2,
      hostCall: async (_b, _n, _o, payload) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return Buffer.from(`async pong ${payload.toString()}`);
      },
      logger: (line) => lines.push(line),
    });
    expect(text(await worker.callFunction('ping_host', { bytes: Buffer.from('a') }))).toBe(
      'async pong a',
    );
    expect(text(await worker.callFunction('log', { bytes: Buffer.from('from a thread') }))).toBe(
      'logged',
    );
    expect(lines).toEqual(['from a thread']);
    await rejectsWithCode(
      worker.callFunction('fail', { bytes: Buffer.from('x') }),
      'ERR_GUEST_ERROR',
    );
    expect(await worker.callFunction('json_sum', { data: { a: 1, b: 2 } })).toEqual({ sum: 3 });
  });

  it('survive a hot swap (replace_module)', async () => {
    const { readFileSync } = await import('node:fs');
    const worker = await startWorker({
      wasmBinary: readFileSync(WAPC),
      threads: 1,
      hostCall: () => 'pong',
    });
    expect(text(await worker.callFunction('echo', { bytes: Buffer.from('before') }))).toBe(
      'before',
    );
    await worker.reload(readFileSync(WAPC));
    expect(worker.version).toBe(1);
    expect(text(await worker.callFunction('ping_host', { bytes: Buffer.from('x') }))).toBe('pong');
    expect(text(await worker.callFunction('init_calls', { bytes: Buffer.alloc(0) }))).toBe('1');
  });
});

describe('waPC + WASI guests', () => {
  it('get only the environment and files granted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtube-wapc-'));
    writeFileSync(join(dir, 'f.txt'), 'file for wapc');
    const bridge = Wasmtube.fromFile(WAPC_WASI, {
      wasi: {
        env: { TOKEN: 'abc' },
        preopens: { '/data': dir },
        stdout: 'capture',
        stderr: 'capture',
      },
    });
    expect(text(await bridge.invoke('env', Buffer.from('TOKEN')))).toBe('abc');
    await rejectsWithCode(bridge.invoke('env', Buffer.from('HOME')), 'ERR_GUEST_ERROR');
    expect(text(await bridge.invoke('read', Buffer.from('/data/f.txt')))).toBe('file for wapc');
    await rejectsWithCode(bridge.invoke('read', Buffer.from('/etc/hostname')), 'ERR_GUEST_ERROR');
    expect(text(await bridge.invoke('print', Buffer.from('shown')))).toBe('printed');
    expect(bridge.lastOutput).toEqual({ stdout: 'shown', stderr: 'shown' });
    await rejectsWithCode(bridge.invoke('exit', Buffer.from('4')), 'ERR_GUEST_EXIT');
    expect(text(await bridge.invoke('echo', Buffer.from('still here')))).toBe('still here');
  });

  it('work in a Worker', async () => {
    const worker = await startWorker({
      wasmFile: WAPC_WASI,
      threads: 1,
      wasi: { env: { TOKEN: 't' } },
    });
    expect(text(await worker.callFunction('env', { bytes: Buffer.from('TOKEN') }))).toBe('t');
    await rejectsWithCode(
      worker.callFunction('exit', { bytes: Buffer.from('1') }),
      'ERR_GUEST_EXIT',
    );
    expect(text(await worker.callFunction('echo', { bytes: Buffer.from('ok') }))).toBe('ok');
  });
});
