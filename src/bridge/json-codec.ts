import { InputEncodeError, ResultDecodeError } from '../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a value as UTF-8 JSON, the format Wasmtube guests read. */
export function encodeJson(value: unknown): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InputEncodeError(
      `The data cannot be encoded as JSON: ${(error as Error).message}. Pass plain objects, ` +
        `arrays, strings, numbers, booleans and null (convert BigInt and remove cycles).`,
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new InputEncodeError(
      `The data (${typeof value}) has no JSON form. Pass a JSON value; use null for "nothing".`,
    );
  }
  return encoder.encode(text);
}

/** Decodes a guest's UTF-8 JSON result; the error's details show an excerpt of what came back. */
export function decodeJson(bytes: Uint8Array, fn: string): unknown {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (error) {
    throw decodeError(fn, 'is not valid UTF-8', bytes, error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw decodeError(fn, 'is not valid JSON', bytes, error);
  }
}

/** Up to 64 bytes of a result, as text with non-printable bytes escaped, for error details. */
export function excerpt(bytes: Uint8Array, max = 64): string {
  let out = '';
  for (const b of bytes.subarray(0, max)) {
    out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > max ? `${out}…` : out;
}

function decodeError(fn: string, problem: string, bytes: Uint8Array, cause: unknown) {
  // The bytes themselves stay out of the message (they are binary more often than not): an
  // excerpt is in details.excerpt.
  return new ResultDecodeError(
    `The ${bytes.length}-byte result of ${fn} ${problem}. The guest must write UTF-8 JSON at ` +
      `the index and return its length; ask for returns: 'bytes' to get raw bytes.`,
    { cause, details: { fn, length: bytes.length, problem, excerpt: excerpt(bytes) } },
  );
}
