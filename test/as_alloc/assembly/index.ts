// Test guest for wasmtube's allocator ABI (docs/ABI.md) in AssemblyScript. Inputs and outputs are
// raw blocks of the runtime's heap (heap.alloc, not GC-managed objects), so the garbage collector
// never moves or frees what the host holds. No function creates managed objects (strings,
// arrays), which keeps the GC out of the module and lets `--use abort=` drop the env.abort import.

import { BLOCK_MAXSIZE } from '~lib/rt/common';

/** Allocates `len` bytes for the host; 0 for a length the heap cannot hold (a failure to grow
 * memory is still a trap: TLSF does not report it). */
export function wasmtube_alloc(len: i32): usize {
  if (len < 0 || <usize>len > BLOCK_MAXSIZE) return 0;
  return heap.alloc(<usize>len);
}

/** Frees an input or an output; the heap knows each block's size, so `len` is not needed. */
export function wasmtube_free(ptr: usize, len: i32): void {
  heap.free(ptr);
}

/** Packs an output for the host: length in bits 0-31, pointer in bits 32-62. */
function pack(ptr: usize, len: i32): i64 {
  return ((<i64>ptr) << 32) | (<i64>(<u32>len));
}

/** The input bytes, unchanged (whatever they encode). */
export function echo(ptr: usize, len: i32): i64 {
  const out = heap.alloc(<usize>len);
  memory.copy(out, ptr, <usize>len);
  return pack(out, len);
}

/** The input with ASCII a-z uppercased; other bytes, UTF-8 included, unchanged. */
export function upper(ptr: usize, len: i32): i64 {
  const out = heap.alloc(<usize>len);
  for (let i: usize = 0; i < <usize>len; i++) {
    const c = load<u8>(ptr + i);
    store<u8>(out + i, c >= 0x61 && c <= 0x7a ? c - 0x20 : c);
  }
  return pack(out, len);
}

// "Hello, " and "!" in UTF-8, as raw static bytes rather than (UTF-16, managed) strings.
const HELLO = memory.data<u8>([0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20]);
const HELLO_LEN = 7;
const BANG: u8 = 0x21;

/** A string in, a string out: "Hello, <name>!". */
export function greet(ptr: usize, len: i32): i64 {
  const outLen = HELLO_LEN + len + 1;
  const out = heap.alloc(<usize>outLen);
  memory.copy(out, HELLO, HELLO_LEN);
  memory.copy(out + HELLO_LEN, ptr, <usize>len);
  store<u8>(out + HELLO_LEN + <usize>len, BANG);
  return pack(out, outLen);
}
