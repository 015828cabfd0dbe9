import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { fixture, rejectsWithCode, WASM_TEST } from './helpers.js';
import { startWorker } from './pool-helpers.js';

const ALLOC_TEST = fixture('alloc_test');

describe('typed calls', () => {
  it('pass and return numbers, bigints, booleans and nothing', async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    expect(await bridge.call('add', [2, 3])).toBe(5);
    expect(await bridge.call('add64', [2n ** 40n, 1n])).toBe(2n ** 40n + 1n);
    expect(await bridge.call('mix', [1.5, 0.25])).toBe(3.25);
    expect(await bridge.call('is_even', [4], { returns: 'bool' })).toBe(true);
    expect(await bridge.call('is_even', [7], { returns: 'bool' })).toBe(false);
    expect(await bridge.call('nothing')).toBeUndefined();
  });

  it('pass strings and bytes through guest memory', async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    expect(await bridge.call('greet', ['Ada'], { returns: 'string' })).toBe('Hello, Ada!');
    expect(await bridge.call('greet', ['日本'], { returns: 'string' })).toBe('Hello, 日本!');
    expect(await bridge.call('concat', ['left', 'right'], { returns: 'string' })).toBe(
      'left right',
    );
    const reversed = await bridge.call<Buffer>('reverse_bytes', [Uint8Array.of(1, 2, 3)], {
      returns: 'bytes',
    });
    expect([...reversed]).toEqual([3, 2, 1]);
    expect(await bridge.call('sum_bytes', [Uint8Array.of(1, 2, 3, 250)])).toBe(256);
  });

  it('check arguments against the real signature', async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    const error = await rejectsWithCode(bridge.call('add', [1]), 'ERR_EXPORT_SIGNATURE');
    expect(error.details.actual).toEqual({ params: ['i32', 'i32'], results: ['i32'] });
    await rejectsWithCode(bridge.call('add', ['1', 2]), 'ERR_EXPORT_SIGNATURE');
    await rejectsWithCode(bridge.call('add64', [1, 2]), 'ERR_EXPORT_SIGNATURE');
    await rejectsWithCode(
      bridge.call('add', [1, 2], { returns: 'string' }),
      'ERR_EXPORT_SIGNATURE',
    );
    await rejectsWithCode(bridge.call('add', [1.5, 2]), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(bridge.call('add', [{}, 2]), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(
      bridge.call('add', [1, 2], { params: ['i32', 'i64'] }),
      'ERR_EXPORT_SIGNATURE',
    );
    await rejectsWithCode(bridge.call('missing', []), 'ERR_EXPORT_NOT_FOUND');
    expect(await bridge.call('add', [1, 2], { params: ['i32', 'i32'], returns: 'i32' })).toBe(3);
  });

  it('strings need the allocator exports', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    await rejectsWithCode(
      bridge.call('echo', ['text'], { returns: 'i32' }),
      'ERR_EXPORT_SIGNATURE',
    );
  });

  it('a trap in a typed call resets the instance', async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    await rejectsWithCode(bridge.call('trap', [0, 0], { returns: 'i64' }), 'ERR_GUEST_TRAP');
    expect(await bridge.call('add', [1, 1])).toBe(2);
  });

  it('work in a Worker', async () => {
    const worker = await startWorker({ wasmFile: ALLOC_TEST, threads: 2 });
    expect(await worker.call('add64', [5n, 6n])).toBe(11n);
    expect(await worker.call('greet', ['pool'], { returns: 'string' })).toBe('Hello, pool!');
    const bytes = await worker.call<Buffer>('reverse_bytes', [Uint8Array.of(9, 8)], {
      returns: 'bytes',
    });
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect([...bytes]).toEqual([8, 9]);
    await rejectsWithCode(worker.call('add', [1]), 'ERR_EXPORT_SIGNATURE');
  });
});
