/**
 * Steps over the instructions of a function body, one at a time, so a rewrite can find opcodes
 * without mistaking immediates for them. Covers the MVP and the proposals Node 20 ships
 * (bulk memory, reference types, SIMD, threads, sign extension, saturating conversions,
 * exceptions, tail calls); anything else throws {@link Unsupported}.
 */
import { Reader, Unsupported } from './wasm-binary.js';

/** Opcodes the memory-size rewrite replaces. */
export const OP = { globalSet: 0x24, memorySize: 0x3f, memoryGrow: 0x40 } as const;

/** Opcodes followed by one LEB128 index (calls, branches, locals, globals, tables, exceptions). */
const ONE_INDEX = new Set([
  0x07, 0x08, 0x09, 0x0c, 0x0d, 0x10, 0x12, 0x18, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0xd2,
]);
/** Opcodes whose immediate is a block type. */
const BLOCKS = new Set([0x02, 0x03, 0x04, 0x06]);
/** Opcodes with no immediate (control, parametric, numeric, ref.is_null, catch_all, end...). */
function noImmediate(op: number): boolean {
  return (
    op === 0x00 ||
    op === 0x01 ||
    op === 0x05 ||
    op === 0x0b ||
    op === 0x0f ||
    op === 0x19 ||
    op === 0x1a ||
    op === 0x1b ||
    op === 0xd1 ||
    (op >= 0x45 && op <= 0xc4)
  );
}

/** Skips the instruction whose opcode `op` was just read, leaving `r` at the next one. */
export function skipImmediates(r: Reader, op: number): void {
  if (noImmediate(op)) return;
  if (ONE_INDEX.has(op)) return void r.u32();
  if (BLOCKS.has(op)) return skipBlockType(r);
  if (op >= 0x28 && op <= 0x3e) return skipMemarg(r); // loads and stores
  switch (op) {
    case 0x0e: // br_table
      for (let n = r.u32(); n >= 0; n--) r.u32(); // n labels, then the default
      return;
    case 0x11: // call_indirect
    case 0x13: // return_call_indirect
      r.u32();
      r.u32();
      return;
    case 0x1c: // select with types
      for (let n = r.u32(); n > 0; n--) r.byte();
      return;
    case 0x3f: // memory.size
    case 0x40: // memory.grow
    case 0xd0: // ref.null
      r.byte();
      return;
    case 0x41: // i32.const
    case 0x42: // i64.const
      skipLeb(r);
      return;
    case 0x43:
      skip(r, 4);
      return;
    case 0x44:
      skip(r, 8);
      return;
    case 0xfc:
      return skipMisc(r, r.u32());
    case 0xfd:
      return skipSimd(r, r.u32());
    case 0xfe:
      return skipAtomic(r, r.u32());
    default:
      throw new Unsupported(`unknown opcode 0x${op.toString(16)}`);
  }
}

function skipMisc(r: Reader, sub: number): void {
  if (sub <= 7) return; // saturating truncations
  switch (sub) {
    case 8: // memory.init
      r.u32();
      r.byte();
      return;
    case 10: // memory.copy
      r.byte();
      r.byte();
      return;
    case 11: // memory.fill
      r.byte();
      return;
    case 12: // table.init
    case 14: // table.copy
      r.u32();
      r.u32();
      return;
    case 9: // data.drop
    case 13: // elem.drop
    case 15: // table.grow
    case 16: // table.size
    case 17: // table.fill
      r.u32();
      return;
    default:
      throw new Unsupported(`unknown 0xfc instruction ${sub}`);
  }
}

function skipSimd(r: Reader, sub: number): void {
  if (sub <= 11 || sub === 92 || sub === 93) return skipMemarg(r); // loads, stores, load_zero
  if (sub === 12 || sub === 13) return skip(r, 16); // v128.const, i8x16.shuffle
  if (sub >= 21 && sub <= 34) return skip(r, 1); // extract_lane, replace_lane
  if (sub >= 84 && sub <= 91) {
    skipMemarg(r); // load_lane, store_lane
    return skip(r, 1);
  }
  if (sub <= 0x113) return; // the rest of SIMD (relaxed SIMD included) has no immediate
  throw new Unsupported(`unknown 0xfd instruction ${sub}`);
}

function skipAtomic(r: Reader, sub: number): void {
  if (sub === 0x03) return skip(r, 1); // atomic.fence
  if (sub <= 0x4e) return skipMemarg(r);
  throw new Unsupported(`unknown 0xfe instruction ${sub}`);
}

function skipBlockType(r: Reader): void {
  const b = r.bytes[r.pos];
  if (b === 0x40 || (b !== undefined && b >= 0x6f && b <= 0x7f)) {
    r.byte();
    return;
  }
  skipLeb(r); // a type index, as a signed 33-bit LEB128
}

function skipMemarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: a memory index follows
  r.u32();
}

function skip(r: Reader, bytes: number): void {
  r.pos += bytes;
  if (r.pos > r.end) throw new Unsupported('instruction past end');
}

/** Skips a (signed or unsigned) LEB128 number of any width. */
export function skipLeb(r: Reader): void {
  for (let i = 0; i < 10; i++) if ((r.byte() & 0x80) === 0) return;
  throw new Unsupported('LEB128 too long');
}
