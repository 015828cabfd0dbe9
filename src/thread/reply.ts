/**
 * A call's reply, with the buffers it moves to the main thread (the rules are in
 * `src/protocol/transfer.ts`).
 */
import { copyBytes, isShared } from '../bridge/buffers.js';
import type { CallReply, ThreadResponse, ThreadTask } from '../protocol/messages.js';
import { ownsWholeBuffer, STAGING_MIN_BYTES } from '../protocol/transfer.js';

/**
 * The buffer a call's input bytes arrived in (moved from the main thread, owned by this thread
 * now), which the call's result may be copied into: pages written before cost no page faults.
 */
export function stagingBuffer(task: ThreadTask): Uint8Array | undefined {
  // (Shared input is the caller's memory, read in place: ownsWholeBuffer rules it out.)
  const input = task.input as { image?: unknown; bytes?: unknown } | undefined;
  const bytes = input?.image ?? input?.bytes;
  return bytes instanceof Uint8Array && ownsWholeBuffer(bytes) ? bytes : undefined;
}

/**
 * A thread's reply with the result bytes moved, not copied (a 1080p image is 6 MB: cloning
 * costs milliseconds, moving costs nothing). A result in the call's staging buffer moves with
 * it; otherwise a large staging buffer goes back to the main thread for the next call. A result
 * in the caller's shared result buffer needs neither. Without a response, the reply says the
 * call was skipped (withdrawn before it started).
 */
export function reply(
  slot: number,
  response: ThreadResponse | undefined,
  staging: Uint8Array | undefined,
): { message: CallReply; transfer: ArrayBuffer[] } {
  const message: CallReply = response ? { slot, response } : { slot, skipped: true };
  const transfer: ArrayBuffer[] = [];
  const value = response?.ok ? (response.value as { pixels?: unknown } | undefined) : undefined;
  let bytes = value instanceof Uint8Array ? value : value?.pixels;
  if (bytes instanceof Uint8Array && isShared(bytes)) {
    bytes = undefined; // the caller's shared result buffer: cloning the view shares it
  } else if (bytes instanceof Uint8Array && staging && bytes.buffer === staging.buffer) {
    if (bytes.byteLength >= staging.byteLength / 2) {
      transfer.push(staging.buffer as ArrayBuffer);
      return { message, transfer };
    }
    // A small result must not keep a large buffer alive in the caller's hands.
    bytes = copyBytes(bytes);
    (response as { value: unknown }).value =
      value instanceof Uint8Array ? bytes : { ...value, pixels: bytes };
  }
  if (bytes instanceof Uint8Array && ownsWholeBuffer(bytes)) {
    transfer.push(bytes.buffer as ArrayBuffer);
  }
  if (staging && staging.byteLength >= STAGING_MIN_BYTES) {
    message.spare = staging.buffer as ArrayBuffer;
    transfer.push(message.spare);
  }
  return { message, transfer };
}
