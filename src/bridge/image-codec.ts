import {
  ImageDecodeError,
  ImageEncodeError,
  ImageSizeMismatchError,
  ImageTooLargeError,
  InvalidArgumentError,
} from '../errors.js';
import type { RgbImage } from '../types.js';
import { describeValue } from './check-options.js';

/** Pixels an encoded image may declare before it is refused undecoded (40 MP). */
export const DEFAULT_MAX_IMAGE_PIXELS = 40_000_000;

// sharp is loaded on first use: worker threads that never see an encoded image start faster.
let sharpModule: Promise<typeof import('sharp')> | undefined;
const loadSharp = async () => (await (sharpModule ??= import('sharp'))).default;

/** Encoded formats a result image can be returned in. */
export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** Encoded formats recognised in input by their first bytes. */
export type DetectedFormat = ImageFormat | 'gif' | 'tiff' | 'avif';

const startsWith = (bytes: Uint8Array, sig: readonly number[], at = 0) =>
  bytes.length >= at + sig.length && sig.every((b, i) => bytes[at + i] === b);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** Recognises an encoded image by its signature bytes; `undefined` means "not encoded". */
export function detectImageFormat(bytes: Uint8Array): DetectedFormat | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('GIF8'))) return 'gif';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return 'tiff';
  }
  if (startsWith(bytes, ascii('ftyp'), 4)) return 'avif';
  return undefined;
}

/**
 * Turns a call's image input into raw RGB. Raw bytes need `width` and `height` and must be exactly
 * `width * height * 3` long; an encoded image (detected by content) is decoded with sharp,
 * EXIF-rotated, alpha dropped and converted to sRGB, and its real dimensions are used.
 */
export async function toRgbImage(
  image: unknown,
  width?: number,
  height?: number,
  maxPixels = DEFAULT_MAX_IMAGE_PIXELS,
): Promise<RgbImage> {
  if (!(image instanceof Uint8Array)) {
    throw new InvalidArgumentError('image must be a Buffer or Uint8Array of RGB or encoded bytes.');
  }
  const sized = width !== undefined || height !== undefined;
  if (sized) {
    checkDimension('width', width);
    checkDimension('height', height);
  }
  if (sized && image.length === width! * height! * 3) {
    return { pixels: image, width: width!, height: height! };
  }
  const format = detectImageFormat(image);
  if (format === undefined) {
    if (sized) {
      throw new ImageSizeMismatchError(
        `A ${width}x${height} RGB image is ${width! * height! * 3} bytes, but ${image.length} were ` +
          `given. Pass width*height*3 raw RGB bytes, or an encoded PNG/JPEG/WebP without a size.`,
        { details: { width, height, expected: width! * height! * 3, actual: image.length } },
      );
    }
    throw new ImageDecodeError(
      `The ${image.length} image bytes are not a recognised PNG, JPEG, WebP, GIF, TIFF or AVIF. ` +
        `For raw RGB pixels pass width and height too.`,
      { details: { bytes: image.length } },
    );
  }
  const decoded = await decode(image, format, maxPixels);
  if (sized && (decoded.width !== width || decoded.height !== height)) {
    throw new ImageSizeMismatchError(
      `The ${format} image is ${decoded.width}x${decoded.height}, not the ${width}x${height} ` +
        `given. Omit width and height to use the image's own size.`,
      {
        details: {
          format,
          width,
          height,
          actualWidth: decoded.width,
          actualHeight: decoded.height,
        },
      },
    );
  }
  return decoded;
}

async function decode(
  bytes: Uint8Array,
  format: DetectedFormat,
  maxPixels: number,
): Promise<RgbImage> {
  const sharp = await loadSharp();
  try {
    // sharp checks the size the header declares before decoding anything: a few hundred bytes
    // can declare gigabytes of pixels.
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, not 3`);
    return { pixels: data, width: info.width, height: info.height };
  } catch (error) {
    if (/exceeds pixel limit/.test((error as Error).message)) {
      const { width = 0, height = 0 } = await sharp(bytes).metadata();
      throw new ImageTooLargeError(
        `The ${format} image is ${width}x${height} (${width * height} pixels), more than ` +
          `maxImagePixels (${maxPixels}): it was not decoded. Send a smaller image, or raise ` +
          `maxImagePixels.`,
        { cause: error, details: { format, width, height, maxPixels } },
      );
    }
    throw new ImageDecodeError(
      `The ${format} image could not be decoded: ${(error as Error).message}. Is the file ` +
        `truncated or corrupt?`,
      { cause: error, details: { format, bytes: bytes.length } },
    );
  }
}

/** Encodes raw RGB pixels to PNG, JPEG or WebP with sharp. */
export async function encodeImage(image: RgbImage, format: ImageFormat): Promise<Buffer> {
  const sharp = await loadSharp();
  try {
    return await sharp(image.pixels, {
      raw: { width: image.width, height: image.height, channels: 3 },
    })
      .toFormat(format)
      .toBuffer();
  } catch (error) {
    throw new ImageEncodeError(
      `Encoding the ${image.width}x${image.height} result as ${format} failed: ` +
        `${(error as Error).message}.`,
      { cause: error, details: { format } },
    );
  }
}

/** Checks an image's `width` or `height`: an integer from 1 to 65535. */
export function checkDimension(name: string, value: unknown): asserts value is number {
  if (!Number.isInteger(value) || (value as number) <= 0 || (value as number) > 65535) {
    throw new InvalidArgumentError(
      `${name} must be an integer from 1 to 65535 when given, got ${describeValue(value)}. ` +
        `Give both width and height for raw RGB, or neither for an encoded image.`,
    );
  }
}
