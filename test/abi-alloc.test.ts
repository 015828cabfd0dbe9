import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { expectedGray, fixture, gradient, rejectsWithCode, WASM_TEST } from './helpers.js';
import { startWorker } from './pool-helpers.js';

const ALLOC_TEST = fixture('alloc_test');

describe('the allocator ABI', () => {
  it('is chosen per function: i64 results in a module with an allocator', () => {
    const exports = Object.fromEntries(
      Wasmtube.fromFile(ALLOC_TEST)
        .exports()
        .map((e) => [e.name, e.convention]),
    );
    expect(exports).toMatchObject({
      wasmtube_alloc: 'allocator',
      wasmtube_free: 'allocator',
      echo: 'alloc-data',
      grayscale: 'alloc-image',
      legacy_echo: 'wasmtube-data',
      add64: 'typed',
      greet: 'alloc-data',
    });
    const legacy = Object.fromEntries(
      Wasmtube.fromFile(WASM_TEST)
        .exports()
        .map((e) => [e.name, e.convention]),
    );
    expect(legacy).toMatchObject({ echo: 'wasmtube-data', image_size: 'wasmtube-image' });
  });

  it('round-trips JSON, bytes and images, and keeps the old ABI working in the same module', async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    const value = { args: 'Hello', list: [1, 2, 3] };
    expect(await bridge.callFunction('echo', { data: value })).toEqual(value);
    expect(await bridge.callFunction('legacy_echo', { data: value })).toEqual(value);
    expect((await bridge.callFunction('echo', { bytes: Buffer.from('"raw"') })).toString()).toBe(
      '"raw"',
    );
    const rgb = gradient(64, 32);
    const gray = await bridge.callFunction(
      'grayscale',
      { image: rgb, width: 64, height: 32 },
      { returns: 'rgb' },
    );
    expect(Buffer.compare(gray.pixels, expectedGray(rgb))).toBe(0);
    expect(await bridge.callFunction('image_size', { image: rgb, width: 64, height: 32 })).toEqual({
      width: 64,
      height: 32,
    });
  });

  it('large payloads go into memory the guest allocated', async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    const big = { text: 'z'.repeat(4 * 1024 * 1024) };
    expect(await bridge.callFunction('echo', { data: big })).toEqual(big);
    expect(await bridge.callFunction('count', { data: null })).toEqual({ count: 1 });
  });

  it('an error result is ERR_GUEST_ERROR with the guest message; the instance is kept', async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    await bridge.callFunction('count', { data: null });
    const error = await rejectsWithCode(
      bridge.callFunction('fail', { data: 'please' }),
      'ERR_GUEST_ERROR',
    );
    expect(error.details.guestMessage).toContain('fail was asked to fail');
    expect(bridge.instanceGeneration).toBe(1);
    expect(await bridge.callFunction('count', { data: null })).toEqual({ count: 2 });
  });

  it('an output pointing outside memory is ERR_RESULT_OUT_OF_BOUNDS', async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    await rejectsWithCode(
      bridge.callFunction('bad_pointer', { data: null }),
      'ERR_RESULT_OUT_OF_BOUNDS',
    );
    expect(await bridge.callFunction('echo', { data: 1 })).toBe(1);
  });

  it('does not leak guest memory over many calls', async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    const payload = { data: { text: 'x'.repeat(64 * 1024) } };
    for (let i = 0; i < 50; i++) await bridge.callFunction('echo', payload);
    const after50 = bridge.memoryBytes;
    for (let i = 0; i < 200; i++) await bridge.callFunction('echo', payload);
    expect(bridge.memoryBytes).toBe(after50);
  });

  it('abi: "wasmtube" forces the old ABI, and bad values are rejected', async () => {
    const forced = Wasmtube.fromFile(ALLOC_TEST, { abi: 'wasmtube' });
    await rejectsWithCode(forced.callFunction('echo', { data: 1 }), 'ERR_EXPORT_SIGNATURE');
    expect(() => Wasmtube.fromFile(ALLOC_TEST, { abi: 'fancy' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('an AssemblyScript guest speaks it too', async () => {
    const bridge = Wasmtube.fromFile(fixture('as_alloc'));
    expect(bridge.exports().find((e) => e.name === 'echo')?.convention).toBe('alloc-data');
    expect(await bridge.callFunction('echo', { data: { from: 'as' } })).toEqual({ from: 'as' });
    expect((await bridge.callFunction('upper', { bytes: Buffer.from('shout') })).toString()).toBe(
      'SHOUT',
    );
    expect(await bridge.call('greet', ['AS'], { returns: 'string' })).toBe('Hello, AS!');
  });

  it('works the same in a Worker', async () => {
    const worker = await startWorker({ wasmFile: ALLOC_TEST, threads: 2 });
    expect(worker.exports().find((e) => e.name === 'echo')).toMatchObject({
      convention: 'alloc-data',
      type: '(i32, i32) -> i64',
    });
    expect(await worker.callFunction('echo', { data: { a: 1 } })).toEqual({ a: 1 });
    await rejectsWithCode(worker.callFunction('fail', { data: 'x' }), 'ERR_GUEST_ERROR');
    const rgb = gradient(32, 16);
    const gray = await worker.callFunction(
      'grayscale',
      { image: rgb, width: 32, height: 16 },
      { returns: 'rgb' },
    );
    expect(Buffer.compare(gray.pixels, expectedGray(rgb))).toBe(0);
  });
});

describe('MessagePack payloads', () => {
  it('round-trip through a Rust guest decoding them with rmp-serde', async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    const result = await bridge.callFunction('msgpack_echo', {
      data: { name: 'ada', n: 3, nested: { ok: true } },
      codec: 'msgpack',
    });
    expect(result).toEqual({ name: 'ada', n: 3, nested: { ok: true }, seen_by: 'rust' });
    const raw = await bridge.callFunction(
      'msgpack_echo',
      { data: { a: 1 }, codec: 'msgpack' },
      { returns: 'bytes' },
    );
    expect(Buffer.isBuffer(raw)).toBe(true);
  });

  it("garbage MessagePack from the caller is the guest's error; a bad codec is rejected", async () => {
    const bridge = Wasmtube.fromFile(ALLOC_TEST);
    await rejectsWithCode(
      bridge.callFunction('msgpack_echo', { bytes: Buffer.from([0xc1]) }),
      'ERR_GUEST_ERROR',
    );
    await rejectsWithCode(
      bridge.callFunction('echo', { data: 1, codec: 'xml' } as never),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('work in a Worker', async () => {
    const worker = await startWorker({ wasmFile: ALLOC_TEST, threads: 1 });
    expect(
      await worker.callFunction('msgpack_echo', { data: { k: [1, 2] }, codec: 'msgpack' }),
    ).toEqual({
      k: [1, 2],
      seen_by: 'rust',
    });
  });
});
