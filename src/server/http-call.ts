import { checkKnownOptions } from '../bridge/check-options.js';
import { detectImageFormat } from '../bridge/image-codec.js';
import { InvalidArgumentError } from '../errors.js';
import type { CallInput, ResultKind } from '../types.js';

/** What the gateway can answer with (raw `rgb` is not offered: it has no self-describing form). */
export type ResponseFormat = Extract<ResultKind, 'json' | 'bytes' | 'png' | 'jpeg' | 'webp'>;

const FORMATS: readonly ResponseFormat[] = ['json', 'bytes', 'png', 'jpeg', 'webp'];
const QUERY_KEYS = new Set(['format', 'width', 'height']);

/** Content types of results. */
export const CONTENT_TYPE: Readonly<Record<ResponseFormat, string>> = {
  json: 'application/json; charset=utf-8',
  bytes: 'application/octet-stream',
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** Media types in `Accept` that ask for a result format. */
const ACCEPTED: Readonly<Record<string, ResponseFormat>> = {
  'image/png': 'png',
  'image/*': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/webp': 'webp',
  'application/json': 'json',
  'application/octet-stream': 'bytes',
};

/** The parts of a request a call is made from. */
export interface CallRequest {
  /** The body as parsed: a JSON value, a Buffer for images and octet-streams, or undefined. */
  body: unknown;
  contentType: string | undefined;
  accept: string | undefined;
  query: Record<string, unknown>;
}

/** A call's input and the result format asked for. */
export interface HttpCall {
  input: CallInput;
  returns: ResponseFormat;
  /**
   * Set for an image call whose client chose no format (no `?format`, no image type or JSON in
   * `Accept`): the format of the input image (PNG for GIF, TIFF and AVIF; `bytes` for raw RGB).
   * The answer is then an image in that format when the guest returns one, else its JSON.
   */
  likeInput?: ResponseFormat;
}

/**
 * Turns a request into a call:
 * - `application/json` → `{ data }` (no body at all → `{ data: null }`);
 * - `image/*` → `{ image }` (decoded by sharp in the worker), with `?width&height` if given;
 * - `application/octet-stream` → `{ bytes }`, or raw RGB `{ image, width, height }` with
 *   `?width=W&height=H`.
 * The result format is `?format=json|bytes|png|jpeg|webp`, else the first format named in
 * `Accept` (image types only for an image call; `image/*` → PNG), else `bytes` for a bytes
 * call, the input's own format for an image call (see {@link HttpCall.likeInput}), and `json`
 * otherwise.
 * @throws `ERR_INVALID_ARGUMENT` for unknown or malformed query parameters
 */
export function toCall(request: CallRequest): HttpCall {
  const { query } = request;
  checkKnownOptions(query, QUERY_KEYS, 'query parameter');
  const width = dimension(query, 'width');
  const height = dimension(query, 'height');
  if ((width === undefined) !== (height === undefined)) {
    throw new InvalidArgumentError('Pass both width and height, or neither.');
  }
  const size = width !== undefined ? { width, height } : {};
  const mediaType = request.contentType?.split(';')[0]!.trim().toLowerCase();
  let input: CallInput;
  if (Buffer.isBuffer(request.body) && mediaType?.startsWith('image/')) {
    input = { image: request.body, ...size };
  } else if (Buffer.isBuffer(request.body)) {
    input = width !== undefined ? { image: request.body, ...size } : { bytes: request.body };
  } else {
    if (width !== undefined) {
      throw new InvalidArgumentError(
        'width and height describe raw RGB bodies: send them with Content-Type: ' +
          'application/octet-stream, or an encoded image without them.',
      );
    }
    input = { data: request.body === undefined ? null : request.body };
  }
  const returns = responseFormat(request, input);
  return returns === undefined
    ? { input, returns: 'json', likeInput: inputFormat(input) }
    : { input, returns };
}

/** The format of an image input, for an answer in the same format. */
function inputFormat(input: CallInput): ResponseFormat {
  const { image, width } = input as { image: Uint8Array; width?: number };
  if (width !== undefined && detectImageFormat(image) === undefined) return 'bytes';
  const format = detectImageFormat(image);
  return format === 'jpeg' || format === 'webp' ? format : 'png';
}

/** The format the client asked for; undefined for an image call that asked for none. */
function responseFormat(request: CallRequest, input: CallInput): ResponseFormat | undefined {
  const format = request.query.format;
  if (format !== undefined) {
    if (typeof format !== 'string' || !FORMATS.includes(format as ResponseFormat)) {
      throw new InvalidArgumentError(
        `format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}.`,
      );
    }
    return format as ResponseFormat;
  }
  const isImage = 'image' in input;
  for (const part of (request.accept ?? '').split(',')) {
    const type = part.split(';')[0]!.trim().toLowerCase();
    const wanted = ACCEPTED[type];
    if (wanted === undefined) continue;
    // Image formats only for image calls: a JSON call from a client that also accepts images
    // still gets JSON.
    if (['png', 'jpeg', 'webp'].includes(wanted) && !isImage) continue;
    return wanted;
  }
  if (isImage) return undefined;
  return 'bytes' in input ? 'bytes' : 'json';
}

function dimension(query: Record<string, unknown>, key: 'width' | 'height'): number | undefined {
  const value = query[key];
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^[1-9][0-9]{0,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n)) {
    throw new InvalidArgumentError(
      `${key} must be a positive integer (pixels), got ${JSON.stringify(value)}.`,
    );
  }
  return n;
}

/** The response body for a result in `format`. */
export function toBody(result: unknown, format: ResponseFormat): string | Buffer {
  return format === 'json' ? JSON.stringify(result) : (result as Buffer);
}
