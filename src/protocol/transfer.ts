/**
 * What moves across the thread boundary instead of being copied: the rules both sides of a call
 * channel follow for input and result buffers.
 */

/**
 * Input buffers below this size are cheap to allocate (a few page faults against the copy):
 * threads do not give them back, and the main thread keeps no spare ones of that size.
 */
export const STAGING_MIN_BYTES = 256 * 1024;

/** True when `bytes` spans its entire, non-shared ArrayBuffer, so moving it takes nothing else. */
export function ownsWholeBuffer(bytes: Uint8Array): boolean {
  return (
    bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
  );
}
