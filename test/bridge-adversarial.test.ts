import { describe, expect, it } from 'vitest';
import { GuestTrapError, Wasmtube } from '../dist/index.js';
import { WASM_TEST, fixture, rejectsWithCode } from './helpers.js';

describe('adversarial guests', () => {
  it('a trap is ERR_GUEST_TRAP; the instance is reset and the next call works', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    await bridge.callFunction('count', { data: null });
    await bridge.callFunction('count', { data: null });
    expect(bridge.instanceGeneration).toBe(1);
    const error = await rejectsWithCode(
      bridge.callFunction('trap', { data: null }),
      'ERR_GUEST_TRAP',
    );
    expect(error).toBeInstanceOf(GuestTrapError);
    expect(error.cause).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(bridge.instanceGeneration).toBe(2);
    // State starts over on the fresh instance.
    expect(await bridge.callFunction('count', { data: null })).toEqual({ count: 1 });
    expect(await bridge.callFunction('echo', { data: { args: 'alive' } })).toEqual({
      args: 'alive',
    });
  });

  it('a small maxMemoryMb keeps what headroom fits: calls work, an oversized payload is ERR_MEMORY_LIMIT', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST, { maxMemoryMb: 2 });
    for (let i = 0; i < 3; i++) {
      expect(await bridge.callFunction('echo', { data: { i } })).toEqual({ i });
    }
    await rejectsWithCode(
      bridge.callFunction('echo', { data: 'y'.repeat(3_000_000) }),
      'ERR_MEMORY_LIMIT',
    );
    expect(await bridge.callFunction('echo', { data: 'after' })).toBe('after');
  });

  it('a memory bomb under maxMemoryMb is ERR_MEMORY_LIMIT and the bridge recovers', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST, { maxMemoryMb: 64 });
    const error = await rejectsWithCode(
      bridge.callFunction('memory_bomb', { data: null }),
      'ERR_MEMORY_LIMIT',
    );
    expect(error.details.maxPages).toBe(1024);
    expect(await bridge.callFunction('echo', { data: 'after the bomb' })).toBe('after the bomb');
  });

  it('a guest growing memory directly until it fails is ERR_MEMORY_LIMIT', async () => {
    const bridge = Wasmtube.fromFile(fixture('grow_bomb'), { maxMemoryMb: 32 });
    await rejectsWithCode(bridge.callFunction('bomb', { data: null }), 'ERR_MEMORY_LIMIT');
    await rejectsWithCode(bridge.callFunction('bomb', { data: null }), 'ERR_MEMORY_LIMIT');
  });

  it('a negative result length is ERR_RESULT_OUT_OF_BOUNDS', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const error = await rejectsWithCode(
      bridge.callFunction('negative_length', { data: null }),
      'ERR_RESULT_OUT_OF_BOUNDS',
    );
    expect(error.details.length).toBe(-1);
    expect(await bridge.callFunction('echo', { data: 1 })).toBe(1);
  });

  it('a result length past the end of memory is ERR_RESULT_OUT_OF_BOUNDS', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const error = await rejectsWithCode(
      bridge.callFunction('length_past_end', { data: null }),
      'ERR_RESULT_OUT_OF_BOUNDS',
    );
    expect(error.details.length).toBe(2 ** 31 - 1);
    await rejectsWithCode(
      bridge.index(42).callFunction('length_past_end', { data: null }),
      'ERR_RESULT_OUT_OF_BOUNDS',
    );
    expect(await bridge.callFunction('echo', { data: 2 })).toBe(2);
  });

  it('garbage output is ERR_RESULT_DECODE with an excerpt', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const error = await rejectsWithCode(
      bridge.callFunction('garbage_output', { data: null }),
      'ERR_RESULT_DECODE',
    );
    expect(error.details.excerpt).toBe('\\xff\\xfe\\x00{x');
    const bytes = await bridge.callFunction('garbage_output', { data: null }, { returns: 'bytes' });
    expect([...bytes]).toEqual([0xff, 0xfe, 0x00, 0x7b, 0x78]);
  });

  it('a result type other than i32 is ERR_EXPORT_SIGNATURE', async () => {
    const bridge = Wasmtube.fromFile(fixture('i64_result'));
    const error = await rejectsWithCode(
      bridge.callFunction('echo', { data: 1 }),
      'ERR_EXPORT_SIGNATURE',
    );
    expect(error.details.actual).toEqual({ params: ['i32', 'i32'], results: ['i64'] });
  });

  it('a guest whose memory cannot grow gets ERR_MEMORY_LIMIT for the host region, but .index() works', async () => {
    const bridge = Wasmtube.fromFile(fixture('memory_capped'));
    await rejectsWithCode(bridge.callFunction('echo', { data: 'x' }), 'ERR_MEMORY_LIMIT');
    expect(await bridge.index(42).callFunction('echo', { data: 'x' })).toBe('x');
    await rejectsWithCode(
      bridge.index(65000).callFunction('echo', { data: 'y'.repeat(1000) }),
      'ERR_INPUT_OUT_OF_BOUNDS',
    );
  });
});
