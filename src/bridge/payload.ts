import { asBuffer } from './buffers.js';
import { ImageSizeMismatchError, InvalidArgumentError, ResultDecodeError } from '../errors.js';
import type {
  BytesInput,
  CallInput,
  DataInput,
  ImageInput,
  ResultKind,
  RgbImage,
} from '../types.js';
import { byteArray, describeValue } from './check-options.js';
import {
  checkDimension,
  detectImageFormat,
  encodeImage,
  toRgbImage,
  type ImageFormat,
} from './image-codec.js';
import { decodeJson, encodeJson, excerpt } from './json-codec.js';
import { decodeMsgpack, encodeMsgpack } from './msgpack-codec.js';

const RESULT_KINDS: readonly ResultKind[] = [
  'json',
  'msgpack',
  'bytes',
  'rgb',
  'png',
  'jpeg',
  'webp',
];

/** A call's input turned into bytes for the guest, plus how to read its result. */
export interface PreparedPayload {
  bytes: Uint8Array;
  image: { width: number; height: number } | undefined;
  returns: ResultKind;
}

/**
 * The one validation of a call's input, used by `callFunction`, `callFunctionSync` and a
 * Worker's main thread before the call is queued: exactly one of `data`, `bytes` or `image`, of
 * the right type (buffers still attached); an image's `width` and `height` both integers from 1
 * to 65535 when given, and raw RGB bytes exactly `width*height*3` long unless they are an
 * encoded image; `returns` fitting the input. Returns which input it is.
 */
export function inputKind(input: CallInput, returns: ResultKind | undefined): InputKind {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidArgumentError(
      'The call input must be an object: { data }, { bytes } or { image, width?, height? }; ' +
        `got ${describeValue(input)}.`,
    );
  }
  if (returns !== undefined && !RESULT_KINDS.includes(returns)) {
    throw new InvalidArgumentError(
      `options.returns must be one of ${RESULT_KINDS.join(', ')}, got ${describeValue(returns)}.`,
    );
  }
  // Tested one by one (no list per call: this runs for every call, on both sides of a thread).
  const kind: InputKind | undefined =
    'data' in input ? 'data' : 'bytes' in input ? 'bytes' : 'image' in input ? 'image' : undefined;
  if (kind === undefined || +('data' in input) + +('bytes' in input) + +('image' in input) !== 1) {
    const kinds = (['data', 'bytes', 'image'] as const).filter((k) => k in input);
    throw new InvalidArgumentError(
      `The call input must have exactly one of data, bytes or image; it has ` +
        `${kinds.length === 0 ? 'none' : kinds.join(' and ')}.`,
    );
  }
  if (kind === 'image') {
    checkImageInput(input as ImageInput);
    return kind;
  }
  if (returns === 'rgb' || returns === 'png' || returns === 'jpeg' || returns === 'webp') {
    throw new InvalidArgumentError(
      `returns: '${returns}' needs an image input, whose size the result has; use 'bytes' for other calls.`,
    );
  }
  const codec = (input as DataInput).codec;
  if (kind === 'data' && codec !== undefined && codec !== 'json' && codec !== 'msgpack') {
    throw new InvalidArgumentError(
      `codec must be 'json' or 'msgpack', got ${describeValue(codec)}.`,
    );
  }
  if (kind === 'bytes') byteArray((input as BytesInput).bytes, 'bytes');
  return kind;
}

function checkImageInput({ image, width, height }: ImageInput): void {
  if (!(image instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `image must be a Buffer or Uint8Array of RGB or encoded bytes, got ${describeValue(image)}.`,
    );
  }
  byteArray(image, 'image');
  if (width === undefined && height === undefined) return;
  checkDimension('width', width);
  checkDimension('height', height);
  const expected = width * height * 3;
  if (image.length !== expected && detectImageFormat(image) === undefined) {
    throw new ImageSizeMismatchError(
      `A ${width}x${height} RGB image is ${expected} bytes, but ${image.length} were ` +
        `given. Pass width*height*3 raw RGB bytes, or an encoded PNG/JPEG/WebP without a size.`,
      { details: { width, height, expected, actual: image.length } },
    );
  }
}

/** Which payload a call input carries. */
export type InputKind = 'data' | 'bytes' | 'image';

/** Validates a call's input and encodes it (JSON, raw bytes, or an image decoded to RGB). */
export async function preparePayload(
  input: CallInput,
  returns: ResultKind | undefined,
  maxImagePixels?: number,
): Promise<PreparedPayload> {
  const kind = inputKind(input, returns);
  if (kind === 'image') {
    const { image, width, height } = input as ImageInput;
    const rgb = await toRgbImage(image, width, height, maxImagePixels);
    return {
      bytes: rgb.pixels,
      image: { width: rgb.width, height: rgb.height },
      returns: returns ?? 'json',
    };
  }
  if (kind === 'bytes') {
    return { bytes: (input as BytesInput).bytes, image: undefined, returns: returns ?? 'bytes' };
  }
  return encodeData(input as DataInput, returns);
}

/**
 * The synchronous form of {@link preparePayload}, for inputs that need no decoding: undefined
 * for an image input that is not raw RGB of the given size.
 */
export function preparePayloadSync(
  input: CallInput,
  returns: ResultKind | undefined,
): PreparedPayload | undefined {
  const kind = inputKind(input, returns);
  if (kind === 'image') {
    const { image, width, height } = input as ImageInput;
    // Validated above: with a size, the bytes are raw RGB of that size or an encoded image.
    if (width === undefined || height === undefined || image.length !== width * height * 3) {
      return undefined;
    }
    return { bytes: image, image: { width, height }, returns: returns ?? 'json' };
  }
  if (kind === 'bytes') {
    return { bytes: (input as BytesInput).bytes, image: undefined, returns: returns ?? 'bytes' };
  }
  return encodeData(input as DataInput, returns);
}

/**
 * True when a call needs sharp, which is asynchronous: an image input that is not raw RGB of its
 * given size, or an encoded image result.
 */
export function needsSharp(input: CallInput, returns: ResultKind | undefined): boolean {
  if ('image' in input) {
    const { image, width, height } = input as ImageInput;
    if (width === undefined || height === undefined || image.length !== width * height * 3) {
      return true;
    }
  }
  return returns !== undefined && needsEncoding(returns);
}

/** True when the result kind needs sharp (an encoded image), which is asynchronous. */
export const needsEncoding = (returns: ResultKind): boolean =>
  returns === 'png' || returns === 'jpeg' || returns === 'webp';

/** Encodes `{ data, codec }` input; the default result kind follows the codec. */
export function encodeData(input: DataInput, returns: ResultKind | undefined): PreparedPayload {
  const msgpack = input.codec === 'msgpack';
  return {
    bytes: msgpack ? encodeMsgpack(input.data) : encodeJson(input.data),
    image: undefined,
    returns: returns ?? (msgpack ? 'msgpack' : 'json'),
  };
}

/** Reads a guest's result bytes the way the call asked for. */
export async function shapeResult(
  result: Uint8Array,
  prepared: PreparedPayload,
  fn: string,
): Promise<unknown> {
  if (!needsEncoding(prepared.returns)) return shapeResultSync(result, prepared, fn);
  return encodeImage(resultImage(result, prepared, fn), prepared.returns as ImageFormat);
}

/** The synchronous form of {@link shapeResult}, for results that need no encoding. */
export function shapeResultSync(
  result: Uint8Array,
  prepared: PreparedPayload,
  fn: string,
): unknown {
  switch (prepared.returns) {
    case 'json':
      return decodeJson(result, fn);
    case 'msgpack':
      return decodeMsgpack(result, fn);
    case 'bytes':
      return asBuffer(result);
    default:
      return resultImage(result, prepared, fn);
  }
}

function resultImage(result: Uint8Array, prepared: PreparedPayload, fn: string): RgbImage {
  const { width, height } = prepared.image!;
  if (result.length !== width * height * 3) {
    throw new ResultDecodeError(
      `${fn} returned ${result.length} bytes, but a ${width}x${height} RGB image is ` +
        `${width * height * 3}. The guest must write the pixels back at the index and return ` +
        `width*height*3; use returns: 'json' or 'bytes' for other results.`,
      {
        details: {
          fn,
          length: result.length,
          expected: width * height * 3,
          problem: `is not a ${width}x${height} RGB image (${width * height * 3} bytes)`,
          excerpt: excerpt(result),
        },
      },
    );
  }
  return {
    pixels: asBuffer(result),
    width,
    height,
  };
}

/**
 * Validates `options.resultBuffer` and returns it for the results it applies to: bytes and RGB.
 * Decoded results never use it: a decoder may keep views of its input (msgpackr's binary values
 * do), which the next call would overwrite.
 */
export function checkResultBuffer(
  resultBuffer: unknown,
  returns: ResultKind | undefined,
): Uint8Array | undefined {
  if (resultBuffer === undefined) return undefined;
  byteArray(resultBuffer, 'options.resultBuffer');
  return returns === 'bytes' || returns === 'rgb' ? (resultBuffer as Uint8Array) : undefined;
}
