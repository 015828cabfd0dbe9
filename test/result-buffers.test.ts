import { describe, expect, it } from 'vitest';
import { Wasmtube, Worker } from '../dist/index.js';
import { WASM_TEST, gradient, rejectsWithCode } from './helpers.js';

const inverted = (bytes: Uint8Array): Buffer => Buffer.from(bytes.map((b) => 255 - b));

describe('resultBuffer (in-process)', () => {
  it('puts an RGB result into the given buffer instead of a new one', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const out = new Uint8Array(64 * 48 * 3 + 10);
    for (const image of [gradient(64, 48), inverted(gradient(64, 48))]) {
      const result = await bridge.callFunction(
        'invert',
        { image, width: 64, height: 48 },
        { returns: 'rgb', resultBuffer: out },
      );
      expect(result.pixels.buffer).toBe(out.buffer);
      expect(result.pixels.byteOffset).toBe(0);
      expect(result.pixels.length).toBe(image.length);
      expect(Buffer.compare(result.pixels, inverted(image))).toBe(0);
    }
    const sync = bridge.callFunctionSync<Buffer>(
      'invert',
      { image: gradient(4, 4), width: 4, height: 4 },
      { returns: 'bytes', resultBuffer: out },
    );
    expect(sync.buffer).toBe(out.buffer);
    expect(Buffer.compare(sync, inverted(gradient(4, 4)))).toBe(0);
  });

  it('falls back to a new buffer when the result does not fit, and ignores it for JSON', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const small = new Uint8Array(10);
    const image = gradient(8, 8);
    const result = await bridge.callFunction(
      'invert',
      { image, width: 8, height: 8 },
      { returns: 'rgb', resultBuffer: small },
    );
    expect(result.pixels.buffer).not.toBe(small.buffer);
    expect(Buffer.compare(result.pixels, inverted(image))).toBe(0);
    expect(small).toEqual(new Uint8Array(10));
    const json = await bridge.callFunction(
      'echo',
      { data: { a: 1 } },
      { resultBuffer: new Uint8Array(100) },
    );
    expect(json).toEqual({ a: 1 });
  });

  it('rejects a resultBuffer that is not bytes', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const image = gradient(2, 2);
    await rejectsWithCode(
      bridge.callFunction(
        'invert',
        { image, width: 2, height: 2 },
        // @ts-expect-error: a wrong type on purpose
        { returns: 'rgb', resultBuffer: [1, 2, 3] },
      ),
      'ERR_INVALID_ARGUMENT',
    );
  });
});

describe('large inputs and results through a Worker', () => {
  it('gives each call its own result while input buffers are reused between calls', async () => {
    await using worker = await Worker.start({ wasmFile: WASM_TEST, threads: 2, watch: false });
    const width = 400;
    const height = 300; // 360 KB: large enough for buffers to be kept and reused
    const images = [0, 1, 2, 3].map((k) => gradient(width, height).map((b) => (b + k * 37) & 255));
    // Sizes first (threads hand their input buffers back), then inverts (results take them).
    for (let round = 0; round < 3; round++) {
      const sizes = await Promise.all(
        images.map((image) => worker.callFunction('image_size', { image, width, height })),
      );
      expect(sizes).toEqual(images.map(() => ({ width, height })));
      const results = await Promise.all(
        images.map((image) =>
          worker.callFunction('invert', { image, width, height }, { returns: 'rgb' }),
        ),
      );
      results.forEach((result, i) => {
        expect(Buffer.compare(result.pixels, inverted(images[i]!))).toBe(0);
      });
      // Results are independent buffers: changing one leaves the others (and later calls) alone.
      results[0]!.pixels.fill(7);
      expect(Buffer.compare(results[1]!.pixels, inverted(images[1]!))).toBe(0);
    }
    // The caller's inputs are never moved or changed.
    images.forEach((image, k) => {
      expect(
        Buffer.compare(
          image,
          gradient(width, height).map((b) => (b + k * 37) & 255),
        ),
      ).toBe(0);
    });
  });

  it('copies a result into resultBuffer on the caller side', async () => {
    await using worker = await Worker.start({ wasmFile: WASM_TEST, threads: 1, watch: false });
    const image = gradient(300, 300);
    const out = Buffer.alloc(image.length);
    for (let i = 0; i < 3; i++) {
      const result = await worker.callFunction(
        'invert',
        { image, width: 300, height: 300 },
        { returns: 'rgb', resultBuffer: out },
      );
      expect(result.pixels.buffer).toBe(out.buffer);
      expect(Buffer.compare(out, inverted(image))).toBe(0);
      const bytes = await worker.callFunction(
        'invert',
        { image, width: 300, height: 300 },
        { returns: 'bytes', resultBuffer: out },
      );
      expect(bytes.buffer).toBe(out.buffer);
    }
    await rejectsWithCode(
      // @ts-expect-error: a wrong type on purpose
      worker.callFunction('invert', { image, width: 300, height: 300 }, { resultBuffer: 'no' }),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('reads shared input in place and writes into a shared resultBuffer, copying neither', async () => {
    await using worker = await Worker.start({ wasmFile: WASM_TEST, threads: 1, watch: false });
    const width = 200;
    const height = 150;
    const image = new Uint8Array(new SharedArrayBuffer(width * height * 3));
    const out = new Uint8Array(new SharedArrayBuffer(width * height * 3 + 16), 16);
    for (let k = 0; k < 3; k++) {
      image.set(gradient(width, height).map((b) => (b + k) & 255));
      const result = await worker.callFunction(
        'invert',
        { image, width, height },
        { returns: 'rgb', resultBuffer: out },
      );
      expect(result.pixels.buffer).toBe(out.buffer);
      expect(result.pixels.byteOffset).toBe(16);
      expect(Buffer.compare(result.pixels, inverted(image))).toBe(0);
    }
    // Shared input with an ordinary result (moved back) or an ordinary resultBuffer (copied).
    const moved = await worker.callFunction(
      'invert',
      { image, width, height },
      { returns: 'bytes' },
    );
    expect(Buffer.compare(moved, inverted(image))).toBe(0);
    const plain = new Uint8Array(image.length);
    const copied = await worker.callFunction(
      'invert',
      { image, width, height },
      { returns: 'bytes', resultBuffer: plain },
    );
    expect(copied.buffer).toBe(plain.buffer);
    expect(Buffer.compare(plain, inverted(image))).toBe(0);
    // A shared resultBuffer too small for the result is left alone.
    const small = new Uint8Array(new SharedArrayBuffer(8));
    const fresh = await worker.callFunction(
      'invert',
      { image, width, height },
      { returns: 'bytes', resultBuffer: small },
    );
    expect(fresh.buffer).not.toBe(small.buffer);
    expect(Buffer.compare(fresh, inverted(image))).toBe(0);
  });

  it("never moves or changes the caller's buffers: Buffers, pooled slices, small or large", async () => {
    await using worker = await Worker.start({ wasmFile: WASM_TEST, threads: 1, watch: false });
    const pooled = Buffer.from('a small Buffer carved from the shared 8 KiB pool');
    const inputs = [
      gradient(8, 8), // a small Buffer of its own
      Buffer.from(gradient(8, 8)), // pooled: its ArrayBuffer is shared with other Buffers
      gradient(200, 200), // large
      new Uint8Array(gradient(8, 8)),
    ];
    for (const image of inputs) {
      const before = Buffer.from(image);
      const side = Buffer.from(pooled);
      const result = await worker.callFunction(
        'invert',
        { image, width: image.length === 192 ? 8 : 200, height: image.length === 192 ? 8 : 200 },
        { returns: 'bytes' },
      );
      expect(image.buffer.byteLength).toBeGreaterThan(0); // not detached
      expect(Buffer.compare(Buffer.from(image), before)).toBe(0);
      expect(Buffer.compare(pooled, side)).toBe(0);
      expect(Buffer.compare(result, inverted(image))).toBe(0);
    }
    const bytes = Buffer.from('bytes from the pool');
    expect(
      Buffer.compare(
        await worker.callFunction(
          'invert',
          { image: bytes.subarray(0, 3), width: 1, height: 1 },
          { returns: 'bytes' },
        ),
        inverted(bytes.subarray(0, 3)),
      ),
    ).toBe(0);
    expect(bytes.toString()).toBe('bytes from the pool');
  });
});
