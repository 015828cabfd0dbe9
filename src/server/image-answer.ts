import { encodeImage, toRgbImage } from '../bridge/image-codec.js';
import { decodeJson } from '../bridge/json-codec.js';
import type { CallInfo } from '../supervisor/worker-types.js';
import type { Worker } from '../supervisor/worker.js';
import type { ImageInput } from '../types.js';
import type { ResponseFormat } from './http-call.js';

/** What an image call answered, and in which format. */
export interface ImageAnswer {
  result: unknown;
  format: ResponseFormat;
  info: CallInfo;
}

/**
 * Runs an image call whose client chose no answer format. An image in means an image out: the
 * input is decoded here (so its size is known), the guest's result is taken as bytes, and a
 * result of exactly `width*height*3` bytes is answered as an image in `format` (the input's);
 * any other result is the function's JSON (image functions that measure rather than filter).
 * @throws what the call throws; `ERR_RESULT_DECODE` for a result that is neither
 */
export async function callLikeInput(
  worker: Worker,
  fn: string,
  input: ImageInput,
  format: ResponseFormat,
  options: { signal: AbortSignal; maxImagePixels: number | undefined },
): Promise<ImageAnswer> {
  const rgb = await toRgbImage(input.image, input.width, input.height, options.maxImagePixels);
  const { result, info } = await worker.callFunctionWithInfo(
    fn,
    { image: rgb.pixels, width: rgb.width, height: rgb.height },
    { returns: 'bytes', signal: options.signal },
  );
  const bytes = result as Buffer;
  if (bytes.length !== rgb.width * rgb.height * 3) {
    return { result: decodeJson(bytes, fn), format: 'json', info };
  }
  if (format === 'bytes') return { result: bytes, format, info };
  const image = { pixels: bytes, width: rgb.width, height: rgb.height };
  return { result: await encodeImage(image, format as 'png' | 'jpeg' | 'webp'), format, info };
}
