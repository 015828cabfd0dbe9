import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { expect } from 'vitest';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Path of a built fixture, e.g. `fixture('wasm_test')` → test/fixtures/wasm_test.wasm. */
export const fixture = (name: string): string => `${fixtures}${name}.wasm`;

/** The Rust test guest (test/wasm_test). */
export const WASM_TEST = fixture('wasm_test');
export const wasmTestBytes = (): Buffer => readFileSync(WASM_TEST);

/** A deterministic RGB gradient: pixel (x, y) = (x, y, x ^ y) modulo 256. */
export function gradient(width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = x & 0xff;
      pixels[i + 1] = y & 0xff;
      pixels[i + 2] = (x ^ y) & 0xff;
    }
  }
  return pixels;
}

/** Real PNG bytes, encoded by sharp from {@link gradient}. */
export function pngOf(width: number, height: number, channels: 3 | 4 = 3): Promise<Buffer> {
  const rgb = gradient(width, height);
  const raw =
    channels === 3
      ? rgb
      : Buffer.from(
          Array.from({ length: width * height }, (_, p) => [
            ...rgb.subarray(p * 3, p * 3 + 3),
            255,
          ]).flat(),
        );
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}

/** Real JPEG bytes, encoded by sharp. */
export function jpegOf(width: number, height: number): Promise<Buffer> {
  return sharp(gradient(width, height), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** The BT.601 integer luma the test guest's grayscale uses. */
export function expectedGray(rgb: Uint8Array): Buffer {
  const out = Buffer.alloc(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    const y = (77 * rgb[i]! + 150 * rgb[i + 1]! + 29 * rgb[i + 2]!) >> 8;
    out[i] = out[i + 1] = out[i + 2] = y;
  }
  return out;
}

/** Awaits a rejection and checks its stable `code`; returns the error for further checks. */
export async function rejectsWithCode(
  promise: Promise<unknown>,
  code: string,
): Promise<Error & { code: string; details: Record<string, unknown> }> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a rejection with ${code}, but the call resolved`);
    },
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code });
  return error as Error & { code: string; details: Record<string, unknown> };
}

/** Runs `fn` and checks it throws synchronously with `code`. */
export function throwsWithCode(
  fn: () => unknown,
  code: string,
): Error & { code: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    expect(error).toMatchObject({ code });
    return error as Error & { code: string; details: Record<string, unknown> };
  }
  throw new Error(`expected a throw with ${code}`);
}
