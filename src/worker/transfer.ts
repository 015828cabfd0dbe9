import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { ThreadResponse } from './messages.js';

/**
 * Marks the result bytes of a response for transfer instead of a copy (a 1080p image is 6 MB:
 * cloning costs milliseconds, moving costs nothing). Only buffers that own a whole ArrayBuffer
 * qualify, which is what the bridge returns when it copies a result out of guest memory.
 */
export function transferable(response: ThreadResponse): unknown {
  if (!response.ok) return response;
  const value = response.value as { pixels?: unknown } | undefined;
  const bytes = value instanceof Uint8Array ? value : value?.pixels;
  if (!(bytes instanceof Uint8Array) || !ownsWholeBuffer(bytes)) return response;
  return move({ [transferableSymbol]: bytes.buffer, [valueSymbol]: response } as never);
}

/** True when `bytes` spans its entire, non-shared ArrayBuffer, so moving it takes nothing else. */
export function ownsWholeBuffer(bytes: Uint8Array): boolean {
  return (
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  );
}
