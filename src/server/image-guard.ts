import { detectImageFormat } from '../bridge/image-codec.js';
import { ExportSignatureError, ImageDecodeError, ImageTooLargeError } from '../errors.js';
import type { CallInput } from '../types.js';
import type { CallingConvention, FunctionDescription } from './module-description.js';

// sharp is loaded on the first image call: a gateway serving only JSON never loads it.
let sharpModule: Promise<typeof import('sharp')> | undefined;
const loadSharp = async () => (await (sharpModule ??= import('sharp'))).default;

const IMAGE_CONVENTIONS: ReadonlySet<CallingConvention> = new Set([
  'wasmtube-image',
  'alloc-image',
]);

/** What {@link checkCallInput} needs to know besides the function and the input. */
export interface InputLimits {
  /** The module's name, for messages. */
  module: string;
  /** Most pixels an image input may have; undefined: no limit. */
  maxImagePixels: number | undefined;
}

/**
 * Checks a call's input before anything is decoded or sent to a thread:
 * - the function takes that kind of input (an image function an image, a data function JSON or
 *   bytes), from the signature read from the binary (skipped when it could not be read);
 * - an image has at most `maxImagePixels` pixels, from its header (sharp's `metadata()` does not
 *   decode the pixels) or from `width × height` for raw RGB.
 * @throws `ERR_EXPORT_SIGNATURE` (400), `ERR_IMAGE_TOO_LARGE` (413), `ERR_IMAGE_DECODE` (400)
 */
export async function checkCallInput(
  fn: FunctionDescription,
  input: CallInput,
  limits: InputLimits,
): Promise<void> {
  const isImage = 'image' in input;
  checkKind(fn, isImage, limits.module);
  if (!isImage || limits.maxImagePixels === undefined) return;
  const { image, width, height } = input as { image: Uint8Array; width?: number; height?: number };
  const size =
    width !== undefined && height !== undefined && image.length === width * height * 3
      ? { width, height, format: 'raw RGB' }
      : await encodedSize(image);
  if (size && size.width * size.height > limits.maxImagePixels) {
    const megapixels = (n: number) => `${(n / 1e6).toFixed(1)} MP`;
    throw new ImageTooLargeError(
      `The ${size.format} image is ${size.width}x${size.height} ` +
        `(${megapixels(size.width * size.height)}); module "${limits.module}" accepts images of ` +
        `at most ${limits.maxImagePixels} pixels (${megapixels(limits.maxImagePixels)}, its ` +
        `maxImagePixels). Send a smaller image, or raise maxImagePixels in its sidecar.`,
      {
        details: {
          module: limits.module,
          format: size.format,
          width: size.width,
          height: size.height,
          maxPixels: limits.maxImagePixels,
        },
      },
    );
  }
}

function checkKind(fn: FunctionDescription, isImage: boolean, module: string): void {
  // An unreadable signature ('unknown'): the worker checks the arity when it calls.
  if (fn.type === 'unknown') return;
  const takesImage = IMAGE_CONVENTIONS.has(fn.convention);
  if (isImage === takesImage) return;
  const details = { module, name: fn.name, type: fn.type, convention: fn.convention };
  throw new ExportSignatureError(
    isImage
      ? `"${fn.name}" of module "${module}" is ${fn.type} (${fn.convention}): it does not take ` +
          `an image. Send application/json or application/octet-stream, or call an image function.`
      : `"${fn.name}" of module "${module}" is an image function, ${fn.type}: send an image ` +
          `(Content-Type: image/png, image/jpeg, ...), or raw RGB as application/octet-stream ` +
          `with ?width=W&height=H.`,
    { details },
  );
}

/** The dimensions an encoded image declares; undefined when the bytes are no known format. */
async function encodedSize(
  image: Uint8Array,
): Promise<{ width: number; height: number; format: string } | undefined> {
  const format = detectImageFormat(image);
  // Not an image the worker would decode: it answers with its own error.
  if (format === undefined) return undefined;
  const sharp = await loadSharp();
  let metadata: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    // The header only; the limit is ours, applied below with a clear error.
    metadata = await sharp(image, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageDecodeError(
      `The ${format} image's header could not be read: ${(error as Error).message}. Is the file ` +
        `truncated or corrupt?`,
      { cause: error, details: { format, bytes: image.length } },
    );
  }
  if (metadata.width === undefined || metadata.height === undefined) return undefined;
  // Multi-page images (GIF, WebP, TIFF) are decoded one page: the first.
  return { width: metadata.width, height: metadata.pageHeight ?? metadata.height, format };
}
