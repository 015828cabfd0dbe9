import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Wasmtube, detectImageFormat } from '../dist/index.js';
import { WASM_TEST, expectedGray, gradient, jpegOf, pngOf, rejectsWithCode } from './helpers.js';

describe('callFunction with images', () => {
  it('passes raw RGB with its size to image functions', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const result = await bridge.callFunction('image_size', {
      image: gradient(429, 500),
      width: 429,
      height: 500,
    });
    expect(result).toEqual({ width: 429, height: 500 });
  });

  it('a 1920x1080 image works, and the bridge keeps answering echo and the counter', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    expect(await bridge.callFunction('count', { data: null })).toEqual({ count: 1 });
    const image = gradient(1920, 1080);
    for (let i = 0; i < 3; i++) {
      expect(await bridge.callFunction('image_size', { image, width: 1920, height: 1080 })).toEqual(
        {
          width: 1920,
          height: 1080,
        },
      );
    }
    expect(await bridge.callFunction('echo', { data: { args: 'after' } })).toEqual({
      args: 'after',
    });
    expect(await bridge.callFunction('count', { data: null })).toEqual({ count: 2 });
  });

  it('decodes a real PNG with sharp and passes its real dimensions', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const png = await pngOf(320, 200);
    expect(detectImageFormat(png)).toBe('png');
    expect(await bridge.callFunction('image_size', { image: png })).toEqual({
      width: 320,
      height: 200,
    });
    // An RGBA PNG loses its alpha channel; a matching explicit size is accepted.
    const rgba = await pngOf(64, 48, 4);
    expect(await bridge.callFunction('image_size', { image: rgba, width: 64, height: 48 })).toEqual(
      {
        width: 64,
        height: 48,
      },
    );
  });

  it('decodes a real JPEG', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const jpeg = await jpegOf(257, 131);
    expect(detectImageFormat(jpeg)).toBe('jpeg');
    expect(await bridge.callFunction('image_size', { image: jpeg })).toEqual({
      width: 257,
      height: 131,
    });
  });

  it('returns pixels as RGB, and encoded as PNG or JPEG', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const rgb = gradient(100, 60);
    const gray = await bridge.callFunction(
      'grayscale',
      { image: rgb, width: 100, height: 60 },
      { returns: 'rgb' },
    );
    expect(gray.width).toBe(100);
    expect(gray.height).toBe(60);
    expect(Buffer.compare(Buffer.from(gray.pixels), expectedGray(rgb))).toBe(0);

    const png = await bridge.callFunction(
      'invert',
      { image: await pngOf(100, 60) },
      { returns: 'png' },
    );
    expect(detectImageFormat(png)).toBe('png');
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([100, 60, 3]);
    expect(Buffer.compare(data, Buffer.from(rgb.map((b) => 255 - b)))).toBe(0);

    const jpeg = await bridge.callFunction(
      'grayscale',
      { image: rgb, width: 100, height: 60 },
      { returns: 'jpeg' },
    );
    expect(detectImageFormat(jpeg)).toBe('jpeg');
    expect((await sharp(jpeg).metadata()).width).toBe(100);
  });

  it("does not modify the caller's buffer", async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const rgb = gradient(10, 10);
    const copy = Buffer.from(rgb);
    await bridge.callFunction('invert', { image: rgb, width: 10, height: 10 }, { returns: 'rgb' });
    expect(Buffer.compare(rgb, copy)).toBe(0);
  });

  it('a wrong raw size is ERR_IMAGE_SIZE_MISMATCH', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const error = await rejectsWithCode(
      bridge.callFunction('image_size', { image: gradient(10, 10), width: 11, height: 10 }),
      'ERR_IMAGE_SIZE_MISMATCH',
    );
    expect(error.details).toMatchObject({ expected: 330, actual: 300 });
    await rejectsWithCode(
      bridge.callFunction('image_size', { image: await pngOf(20, 20), width: 10, height: 10 }),
      'ERR_IMAGE_SIZE_MISMATCH',
    );
    await rejectsWithCode(
      bridge.callFunction('image_size', { image: gradient(2, 2), width: 2 }),
      'ERR_INVALID_ARGUMENT',
    );
    await rejectsWithCode(
      bridge.callFunction('image_size', { image: gradient(2, 2), width: 0, height: 2 }),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('a corrupt PNG is ERR_IMAGE_DECODE; unknown bytes without a size too', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const png = await pngOf(64, 64);
    const corrupt = Buffer.from(png);
    corrupt.fill(0x5a, 40, 80);
    await rejectsWithCode(
      bridge.callFunction('image_size', { image: corrupt }),
      'ERR_IMAGE_DECODE',
    );
    await rejectsWithCode(
      bridge.callFunction('image_size', { image: png.subarray(0, png.length / 3) }),
      'ERR_IMAGE_DECODE',
    );
    await rejectsWithCode(
      bridge.callFunction('image_size', { image: gradient(8, 8) }),
      'ERR_IMAGE_DECODE',
    );
    await rejectsWithCode(
      bridge.callFunction('image_size', { image: 'cat.png' } as never),
      'ERR_INVALID_ARGUMENT',
    );
    expect(await bridge.callFunction('echo', { data: 'fine' })).toBe('fine');
  });

  it('an image result of the wrong length is ERR_RESULT_DECODE', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    await rejectsWithCode(
      bridge.callFunction(
        'image_size',
        { image: gradient(8, 8), width: 8, height: 8 },
        { returns: 'rgb' },
      ),
      'ERR_RESULT_DECODE',
    );
  });

  it('keeps call order when a slow decode is followed by a quick call', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const png = await pngOf(800, 600);
    const [size, count] = await Promise.all([
      bridge
        .callFunction('count', { data: null })
        .then(async (first) => [first, await bridge.callFunction('image_size', { image: png })]),
      bridge.callFunction('count', { data: null }),
    ]);
    expect(size).toEqual([{ count: 1 }, { width: 800, height: 600 }]);
    expect(count).toEqual({ count: 2 });
    const order: string[] = [];
    await Promise.all([
      bridge.callFunction('image_size', { image: png }).then(() => order.push('image')),
      bridge.callFunction('count', { data: null }).then(() => order.push('count')),
    ]);
    expect(order).toEqual(['image', 'count']);
  });

  it('an encoded image declaring more than maxImagePixels is refused from its header, undecoded', async () => {
    // 48 MP of black compresses to a few hundred KB: decoding it would take 144 MB.
    const big = await sharp({
      create: { width: 8000, height: 6000, channels: 3, background: '#000' },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const error = await rejectsWithCode(
      bridge.callFunction('image_size', { image: big }),
      'ERR_IMAGE_TOO_LARGE',
    );
    expect(error.details).toMatchObject({ width: 8000, height: 6000, maxPixels: 40_000_000 });
    const small = await pngOf(20, 10);
    const strict = Wasmtube.fromFile(WASM_TEST, { maxImagePixels: 100 });
    await rejectsWithCode(
      strict.callFunction('image_size', { image: small }),
      'ERR_IMAGE_TOO_LARGE',
    );
    // Raw RGB is not limited, and a large enough limit lets the image through.
    expect(
      await strict.callFunction('image_size', { image: gradient(20, 10), width: 20, height: 10 }),
    ).toEqual({ width: 20, height: 10 });
    expect(await bridge.callFunction('image_size', { image: small })).toEqual({
      width: 20,
      height: 10,
    });
  });
});
