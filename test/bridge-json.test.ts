import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { WASM_TEST, rejectsWithCode } from './helpers.js';

describe('callFunction with JSON data', () => {
  it('echoes any JSON value', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const value = { args: 'Hello World!', n: [1, 2.5, null, true], nested: { ü: '日本' } };
    expect(await bridge.callFunction('echo', { data: value })).toEqual(value);
    expect(await bridge.callFunction('echo', { data: 'just a string' })).toBe('just a string');
  });

  it('keeps guest state across calls', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    expect(await bridge.callFunction('count', { data: null })).toEqual({ count: 1 });
    expect(await bridge.callFunction('count', { data: null })).toEqual({ count: 2 });
    expect(await bridge.callFunction('count', { data: null })).toEqual({ count: 3 });
  });

  it('serialises concurrent calls in submission order', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const calls = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0
        ? bridge.callFunction('count', { data: null })
        : bridge.callFunction('echo', { data: { i, pad: 'x'.repeat(i * 100) } }),
    );
    const results = await Promise.all(calls);
    results.forEach((result, i) => {
      expect(result).toEqual(i % 2 === 0 ? { count: i / 2 + 1 } : { i, pad: 'x'.repeat(i * 100) });
    });
  });

  it('passes payloads far larger than the guest stack without corrupting it', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const big = { args: 'y'.repeat(8 * 1024 * 1024) };
    expect(await bridge.callFunction('echo', { data: big })).toEqual(big);
    expect(await bridge.callFunction('count', { data: null })).toEqual({ count: 1 });
    expect(await bridge.callFunction('echo', { data: { args: 'small' } })).toEqual({
      args: 'small',
    });
  });

  it('returns results longer than the input within the headroom', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const result = await bridge.callFunction<string>('repeat', {
      data: { text: 'ab', times: 100_000 },
    });
    expect(result).toBe('ab'.repeat(100_000));
  });

  it('a result longer than payload + headroom is ERR_RESULT_OUT_OF_BOUNDS, and can be allowed', async () => {
    const small = Wasmtube.fromFile(WASM_TEST, { resultHeadroomBytes: 0 });
    const error = await rejectsWithCode(
      small.callFunction('repeat', { data: { text: 'abcd', times: 100_000 } }),
      'ERR_RESULT_OUT_OF_BOUNDS',
    );
    expect(error.details.length).toBeGreaterThan(400_000);
    expect(await small.callFunction('echo', { data: { still: 'works' } })).toEqual({
      still: 'works',
    });
    const roomy = Wasmtube.fromFile(WASM_TEST, { resultHeadroomBytes: 1 << 20 });
    expect(
      await roomy.callFunction('repeat', { data: { text: 'abcd', times: 100_000 } }),
    ).toHaveLength(400_000);
  });

  it('callFunctionSync answers without a promise, and refuses what needs sharp', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    expect(bridge.callFunctionSync('echo', { data: { a: 1 } })).toEqual({ a: 1 });
    expect(bridge.callFunctionSync('count', { data: null })).toEqual({ count: 1 });
    const rgb = Buffer.alloc(12, 10);
    const out = bridge.callFunctionSync<{ pixels: Buffer }>(
      'invert',
      { image: rgb, width: 2, height: 2 },
      { returns: 'rgb' },
    );
    expect([...out.pixels]).toEqual(Array(12).fill(245));
    expect(() =>
      bridge.callFunctionSync('invert', { image: rgb, width: 2, height: 2 }, { returns: 'png' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => bridge.callFunctionSync('trap', { data: null })).toThrow(
      expect.objectContaining({ code: 'ERR_GUEST_TRAP' }),
    );
    expect(await bridge.callFunction('count', { data: null })).toEqual({ count: 1 });
  });

  it('raw bytes in come back as a Buffer by default', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const out = await bridge.callFunction('echo', { bytes: Buffer.from('[1,2,3]') });
    expect(Buffer.isBuffer(out)).toBe(true);
    expect(out.toString()).toBe('[1,2,3]');
    expect(
      await bridge.callFunction('echo', { bytes: Buffer.from('[1]') }, { returns: 'json' }),
    ).toEqual([1]);
  });

  it('rejects bad input with typed errors and keeps serving', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    await rejectsWithCode(bridge.callFunction('echo', { data: 1n }), 'ERR_INPUT_ENCODE');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await rejectsWithCode(bridge.callFunction('echo', { data: cyclic }), 'ERR_INPUT_ENCODE');
    await rejectsWithCode(bridge.callFunction('echo', { data: undefined }), 'ERR_INPUT_ENCODE');
    await rejectsWithCode(bridge.callFunction('echo', {} as never), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(
      bridge.callFunction('echo', { data: 1, bytes: Buffer.from('1') } as never),
      'ERR_INVALID_ARGUMENT',
    );
    await rejectsWithCode(bridge.callFunction('', { data: 1 }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(
      bridge.callFunction('echo', { data: 1 }, { returns: 'xml' as never }),
      'ERR_INVALID_ARGUMENT',
    );
    await rejectsWithCode(
      bridge.callFunction('echo', { data: 1 }, { returns: 'png' } as never),
      'ERR_INVALID_ARGUMENT',
    );
    expect(await bridge.callFunction('echo', { data: 'ok' })).toBe('ok');
  });

  it('an unknown export is ERR_EXPORT_NOT_FOUND listing the exports that exist', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const error = await rejectsWithCode(
      bridge.callFunction('ehco', { data: 1 }),
      'ERR_EXPORT_NOT_FOUND',
    );
    expect(error.details.available).toEqual(
      expect.arrayContaining(['echo', 'count', 'image_size']),
    );
    await rejectsWithCode(bridge.callFunction('memory', { data: 1 }), 'ERR_EXPORT_NOT_FOUND');
  });

  it('a function of the wrong arity is ERR_EXPORT_SIGNATURE', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const error = await rejectsWithCode(
      bridge.callFunction('image_size', { data: { width: 1 } }),
      'ERR_EXPORT_SIGNATURE',
    );
    expect(error.details.actual).toEqual({
      params: ['i32', 'i32', 'i32', 'i32'],
      results: ['i32'],
    });
    await rejectsWithCode(
      bridge.callFunction('echo', { image: Buffer.alloc(12), width: 2, height: 2 }),
      'ERR_EXPORT_SIGNATURE',
    );
  });

  it('an AbortSignal cancels a call still waiting its turn', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const controller = new AbortController();
    const first = bridge.callFunction('count', { data: null });
    const second = bridge.callFunction('count', { data: null }, { signal: controller.signal });
    const third = bridge.callFunction('count', { data: null });
    controller.abort(new Error('user gave up'));
    expect(await first).toEqual({ count: 1 });
    const error = await rejectsWithCode(second, 'ERR_ABORTED');
    expect((error.cause as Error).message).toBe('user gave up');
    expect(await third).toEqual({ count: 2 });
    await rejectsWithCode(
      bridge.callFunction('count', { data: null }, { signal: AbortSignal.abort() }),
      'ERR_ABORTED',
    );
  });
});
