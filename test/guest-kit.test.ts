// The guest kits in guest-kit/: kit_test (Rust, the wasmtube-guest crate's macros) and as_kit
// (AssemblyScript, wasmtube-guest.ts), each export called as a user would.
import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { fixture, gradient, rejectsWithCode } from './helpers.js';
import { startWorker } from './pool-helpers.js';

const KIT_TEST = fixture('kit_test');
const AS_KIT = fixture('as_kit');

describe('the Rust guest kit (wasmtube-guest)', () => {
  it('exports each macro call with the convention it names', () => {
    const conventions = Object.fromEntries(
      Wasmtube.fromFile(KIT_TEST)
        .exports()
        .map((e) => [e.name, e.convention]),
    );
    expect(conventions).toEqual({
      hello: 'wasmtube-data',
      divide_json: 'wasmtube-data',
      divide_alloc: 'alloc-data',
      invert: 'wasmtube-image',
      wasmtube_alloc: 'allocator',
      wasmtube_free: 'allocator',
    });
  });

  it('json_export!: JSON in and out; Err and unparsable input answer {"error": message}', async () => {
    const bridge = Wasmtube.fromFile(KIT_TEST);
    expect(await bridge.callFunction('hello', { data: { name: 'Ada' } })).toEqual({
      message: 'Hello, Ada!',
    });
    expect(await bridge.callFunction('hello', { data: null })).toEqual({
      message: 'Hello, World!',
    });
    expect(await bridge.callFunction('divide_json', { data: { a: 7, b: 2 } })).toBe(3);
    expect(await bridge.callFunction('divide_json', { data: { a: 7, b: 0 } })).toEqual({
      error: 'cannot divide 7 by 0',
    });
    const unparsable = await bridge.callFunction<{ error: string }>('divide_json', { data: 'x' });
    expect(unparsable.error).toEqual(expect.any(String));
    expect(bridge.instanceGeneration).toBe(1);
  });

  it('alloc_json_export!: Err is ERR_GUEST_ERROR with the message, and the instance is kept', async () => {
    const bridge = Wasmtube.fromFile(KIT_TEST);
    expect(await bridge.callFunction('divide_alloc', { data: { a: -9, b: 3 } })).toBe(-3);
    const error = await rejectsWithCode(
      bridge.callFunction('divide_alloc', { data: { a: 7, b: 0 } }),
      'ERR_GUEST_ERROR',
    );
    expect(error.details.guestMessage).toBe('cannot divide 7 by 0');
    const unparsable = await rejectsWithCode(
      bridge.callFunction('divide_alloc', { data: [1] }),
      'ERR_GUEST_ERROR',
    );
    expect(unparsable.details.guestMessage).toEqual(expect.any(String));
    expect(bridge.instanceGeneration).toBe(1);
  });

  it('image_export!: edits the RGB pixels in place', async () => {
    const bridge = Wasmtube.fromFile(KIT_TEST);
    const rgb = gradient(64, 32);
    const inverted = await bridge.callFunction(
      'invert',
      { image: rgb, width: 64, height: 32 },
      { returns: 'rgb' },
    );
    expect(inverted).toMatchObject({ width: 64, height: 32 });
    expect(
      Buffer.compare(
        inverted.pixels,
        rgb.map((b) => 255 - b),
      ),
    ).toBe(0);
  });

  it('serves the same exports from a Worker', async () => {
    const worker = await startWorker({ wasmFile: KIT_TEST, threads: 1 });
    expect(await worker.callFunction('hello', { data: { name: 'Ada' } })).toEqual({
      message: 'Hello, Ada!',
    });
    const error = await rejectsWithCode(
      worker.callFunction('divide_alloc', { data: { a: 1, b: 0 } }),
      'ERR_GUEST_ERROR',
    );
    expect(error.details.guestMessage).toBe('cannot divide 1 by 0');
  });
});

describe('the AssemblyScript guest kit (wasmtube-guest.ts)', () => {
  it('exports the allocator and the guest functions over the allocator ABI', () => {
    const conventions = Object.fromEntries(
      Wasmtube.fromFile(AS_KIT)
        .exports()
        .map((e) => [e.name, e.convention]),
    );
    expect(conventions).toEqual({
      greet: 'alloc-data',
      measure: 'alloc-data',
      reverse: 'alloc-data',
      wasmtube_alloc: 'allocator',
      wasmtube_free: 'allocator',
    });
  });

  it('respond returns text, JSON text is parsed by the host, respondBytes returns bytes', async () => {
    const bridge = Wasmtube.fromFile(AS_KIT);
    expect(await bridge.call('greet', ['Zoë'], { returns: 'string' })).toBe('Hello, Zoë!');
    const greeting = await bridge.callFunction('greet', { bytes: Buffer.from('Ada') });
    expect(greeting.toString()).toBe('Hello, Ada!');
    expect(await bridge.callFunction('measure', { data: 'héllo' })).toEqual({ chars: 5 });
    const reversed = await bridge.callFunction('reverse', { bytes: Buffer.from([1, 2, 3]) });
    expect([...reversed]).toEqual([3, 2, 1]);
  });

  it('respondError is ERR_GUEST_ERROR with the message, and the instance is kept', async () => {
    const bridge = Wasmtube.fromFile(AS_KIT);
    const error = await rejectsWithCode(
      bridge.callFunction('greet', { bytes: Buffer.alloc(0) }),
      'ERR_GUEST_ERROR',
    );
    expect(error.details.guestMessage).toBe('greet needs a name');
    await rejectsWithCode(bridge.callFunction('measure', { data: 42 }), 'ERR_GUEST_ERROR');
    expect(bridge.instanceGeneration).toBe(1);
  });

  it('keeps outputs safe from its garbage collector across many large calls', async () => {
    const bridge = Wasmtube.fromFile(AS_KIT);
    const name = 'x'.repeat(1 << 20);
    for (let i = 0; i < 16; i++) {
      const out = await bridge.callFunction('greet', { bytes: Buffer.from(name) });
      expect(out.length).toBe(name.length + 8);
    }
    expect(bridge.instanceGeneration).toBe(1);
  });
});
