// The allocator ABI of wasmtube (docs/ABI.md in the wasmtube package), for AssemblyScript.
//
// Inputs and outputs are raw blocks of the runtime's heap (heap.alloc), not GC-managed objects,
// so the garbage collector never moves or frees what the host holds. Re-export
// `wasmtube_alloc` and `wasmtube_free` from the entry file.

import { BLOCK_MAXSIZE } from '~lib/rt/common';

/** Allocates `len` bytes for the host; 0 for a length the heap cannot hold. */
export function wasmtube_alloc(len: i32): usize {
  if (len < 0 || <usize>len > BLOCK_MAXSIZE) return 0;
  return heap.alloc(<usize>len);
}

/** Frees an input or an output; the heap knows each block's size, so `len` is not needed. */
export function wasmtube_free(ptr: usize, len: i32): void {
  heap.free(ptr);
}

/** The input of a call, decoded from UTF-8 (JSON text for a `{ data }` call). */
export function inputString(ptr: usize, len: i32): string {
  return String.UTF8.decodeUnsafe(ptr, <usize>len);
}

/** Packs `text` as the output of a call: UTF-8 in a heap block the host frees. */
function output(text: string, error: bool): i64 {
  const len = String.UTF8.byteLength(text);
  const ptr = heap.alloc(<usize>len);
  String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, ptr);
  // Length in bits 0-31, pointer in bits 32-62, bit 63 set for an error message.
  return ((<i64>ptr) << 32) | (<i64>(<u32>len)) | (error ? i64.MIN_VALUE : 0);
}

/** A result: `json` must be JSON text (the host parses it). */
export function ok(json: string): i64 {
  return output(json, false);
}

/** An error message: the call fails with ERR_GUEST_ERROR carrying it; the instance is kept. */
export function error(message: string): i64 {
  return output(message, true);
}
