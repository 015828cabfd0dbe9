import { createRequire } from 'node:module';
import type { Packr } from 'msgpackr';
import { InputEncodeError, ResultDecodeError } from '../errors.js';
import { excerpt } from './json-codec.js';

// Loaded on first use, so threads of workers that never see MessagePack start faster.
const require = createRequire(import.meta.url);
let packrInstance: Packr | undefined;

/**
 * Plain maps with string keys on the way out, as other languages' msgpack libraries expect;
 * no records extension (a msgpackr-only format) on the way in or out.
 */
function packr(): Packr {
  const { Packr } = require('msgpackr') as typeof import('msgpackr');
  packrInstance ??= new Packr({ useRecords: false, mapsAsObjects: true });
  return packrInstance;
}

/** Encodes a value as MessagePack. */
export function encodeMsgpack(value: unknown): Uint8Array {
  try {
    return packr().pack(value);
  } catch (error) {
    throw new InputEncodeError(
      `The data cannot be encoded as MessagePack: ${(error as Error).message}.`,
      { cause: error },
    );
  }
}

/** Decodes a guest's MessagePack result; the error's details show an excerpt of what came back. */
export function decodeMsgpack(bytes: Uint8Array, fn: string): unknown {
  try {
    return packr().unpack(bytes);
  } catch (error) {
    // The bytes stay out of the message; details.excerpt has their start.
    throw new ResultDecodeError(
      `The ${bytes.length}-byte result of ${fn} is not MessagePack. Ask for returns: 'bytes' ` +
        `to get raw bytes.`,
      {
        cause: error,
        details: {
          fn,
          length: bytes.length,
          problem: 'is not MessagePack',
          excerpt: excerpt(bytes),
        },
      },
    );
  }
}
