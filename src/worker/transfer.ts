import type { CallReply, ThreadResponse } from './messages.js';

/**
 * A thread's reply with the result bytes moved, not copied (a 1080p image is 6 MB: cloning
 * costs milliseconds, moving costs nothing). Only buffers that own a whole ArrayBuffer qualify,
 * which is what the bridge returns when it copies a result out of guest memory.
 */
export function reply(
  slot: number,
  response: ThreadResponse,
): { message: CallReply; transfer: ArrayBuffer[] } {
  const message = { slot, response };
  if (!response.ok) return { message, transfer: [] };
  const value = response.value as { pixels?: unknown } | undefined;
  const bytes = value instanceof Uint8Array ? value : value?.pixels;
  if (!(bytes instanceof Uint8Array) || !ownsWholeBuffer(bytes)) return { message, transfer: [] };
  return { message, transfer: [bytes.buffer as ArrayBuffer] };
}

/** True when `bytes` spans its entire, non-shared ArrayBuffer, so moving it takes nothing else. */
export function ownsWholeBuffer(bytes: Uint8Array): boolean {
  return (
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  );
}
