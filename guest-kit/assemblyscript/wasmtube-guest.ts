// Write wasmtube guests in AssemblyScript over the allocator ABI (wasmtube's docs/ABI.md).
//
// Re-export the allocator from your entry file, and write each function as
// `(ptr: usize, len: i32): i64`, reading its input with readString (or readBytes) and returning
// respond(...) or respondError(...):
//
//   import { readString, respond, respondError } from './wasmtube-guest';
//   export { wasmtube_alloc, wasmtube_free } from './wasmtube-guest';
//
//   export function greet(ptr: usize, len: i32): i64 {
//     const name = readString(ptr, len);
//     if (name.length == 0) return respondError('greet needs a name');
//     return respond('Hello, ' + name + '!');
//   }
//
// There is no JSON here: a `{ data }` call's input is JSON text, which you parse with your own
// code (or a library such as json-as), and a result is the text you return. respondError makes the
// call fail with ERR_GUEST_ERROR and `details.guestMessage` = the message; the instance is kept.
// Build with `--use abort=` (asconfig "use": ["abort="]): a failed assertion or runtime error then
// traps (ERR_GUEST_TRAP) instead of importing env.abort, which wasmtube grants only to waPC guests.

import { BLOCK_MAXSIZE } from '~lib/rt/common';

/** Allocates `len` bytes for the host: a raw heap block, which the garbage collector never moves
 * or frees. 0 for a length the heap cannot hold (running out of memory still traps). */
export function wasmtube_alloc(len: i32): usize {
  if (len < 0 || <usize>len > BLOCK_MAXSIZE) return 0;
  return heap.alloc(<usize>len);
}

/** Frees an input or an output; the heap knows each block's size, so `len` is not needed. */
export function wasmtube_free(ptr: usize, len: i32): void {
  heap.free(ptr);
}

/** The input as a string (decoded from UTF-8; invalid sequences become U+FFFD). */
export function readString(ptr: usize, len: i32): string {
  return String.UTF8.decodeUnsafe(ptr, <usize>len);
}

/** A copy of the input bytes. */
export function readBytes(ptr: usize, len: i32): Uint8Array {
  const bytes = new Uint8Array(len);
  memory.copy(bytes.dataStart, ptr, <usize>len);
  return bytes;
}

/** Returns `text` (UTF-8) as the call's result. */
export function respond(text: string): i64 {
  return output(String.UTF8.encode(text), false);
}

/** Returns `bytes` as the call's result, for `{ bytes }` and image calls. */
export function respondBytes(bytes: Uint8Array): i64 {
  return copyOut(bytes.dataStart, bytes.length, false);
}

/** Fails the call: the host rejects it with ERR_GUEST_ERROR and this message. */
export function respondError(message: string): i64 {
  return output(String.UTF8.encode(message), true);
}

function output(utf8: ArrayBuffer, error: bool): i64 {
  return copyOut(changetype<usize>(utf8), utf8.byteLength, error);
}

/** Copies an output into a raw heap block, the host's to free, and packs it: length in bits
 * 0-31, pointer in bits 32-62, bit 63 for an error message. */
function copyOut(from: usize, len: i32, error: bool): i64 {
  const out = heap.alloc(<usize>len);
  memory.copy(out, from, <usize>len);
  return ((<i64>out) << 32) | (<i64>(<u32>len)) | (error ? i64.MIN_VALUE : 0);
}
