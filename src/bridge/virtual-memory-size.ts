/**
 * The second binary rewrite of `isolation: 'call'`: the guest's `memory.size` and `memory.grow`
 * are redirected to a page count the host can reset (a new mutable global), so that after a
 * restore the guest's allocator grows into the same pages again instead of new ones.
 *
 * Without it, a restored allocator that remembers nothing of the pages it grew (Rust's dlmalloc)
 * grows memory on every call; memory climbs until the instance must be replaced, and every page
 * grown must be scrubbed. With it, physical memory only grows when a call needs more than any
 * call before, and the pages a call may have written are exactly those below the page count it
 * reached: what the restore scrubs.
 *
 * `memory.size` becomes `global.get $pages`; `memory.grow` becomes a call of an added function
 * that moves `$pages` and grows physical memory only past its current size. Both are appended
 * (new global, type, function), so no existing index moves.
 */
import { OP, skipImmediates } from './instruction-reader.js';
import { findShadowStack, type ShadowStack } from './shadow-stack.js';
import { encodeU32, Reader, readSections, SECTION, Unsupported } from './wasm-binary.js';

/** The rewritten module and the index of the page-count global it added. */
export interface VirtualMemorySize {
  bytes: Uint8Array;
  pagesGlobal: number;
  /** For LLVM-built guests: the stack region and the global holding the pointer's low-water mark. */
  stack: (ShadowStack & { lowWaterGlobal: number }) | undefined;
}

const CODE = 10;
const I32 = 0x7f;
/** Sections that come after the global section (export, start, element, data count, code, data). */
const AFTER_GLOBAL = new Set([7, 8, 9, 12, 10, 11]);

/**
 * Returns the module with `memory.size`/`memory.grow` redirected to a resettable page count, or
 * `undefined` when it cannot be done: imported or 64-bit memory, several memories, or
 * instructions the reader does not know.
 */
export function virtualizeMemorySize(bytes: Uint8Array): VirtualMemorySize | undefined {
  try {
    return rewrite(bytes);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function rewrite(bytes: Uint8Array): VirtualMemorySize | undefined {
  const sections = readSections(bytes);
  const byId = (id: number) => sections.find((s) => s.id === id);
  const counts = countImports(bytes, byId(SECTION.import));
  const memory = byId(SECTION.memory);
  const types = byId(SECTION.type);
  const functions = byId(SECTION.function);
  const code = byId(CODE);
  if (counts.memories > 0 || !memory || !types || !functions || !code) return undefined;
  const m = new Reader(bytes, memory.contentStart, memory.end);
  if (m.u32() !== 1) return undefined;
  const limits = m.limits();
  if (limits.memory64) return undefined;

  const stack = findShadowStack(bytes, sections, counts.globals);
  const typeEntries = readTypes(bytes, types);
  const typeContent = sectionItems(bytes, types);
  let addedTypes = 0;
  const typeOf = (signature: string, encoded: number[]) => {
    const found = typeEntries.indexOf(signature);
    if (found >= 0) return found;
    typeEntries.push(signature);
    typeContent.items.push(encoded);
    addedTypes++;
    return typeEntries.length - 1;
  };
  const fnContent = sectionItems(bytes, functions);
  const growFunction = counts.functions + fnContent.count;
  fnContent.items.push(encodeU32(typeOf('i32>i32', [0x60, 1, I32, 1, I32])));
  if (stack) fnContent.items.push(encodeU32(typeOf('i32>', [0x60, 1, I32, 0])));
  const globals = byId(SECTION.global);
  const globalContent = globals ? sectionItems(bytes, globals) : { count: 0, items: new Chunks() };
  const pagesGlobal = counts.globals + globalContent.count;
  globalContent.items.push([I32, 0x01, 0x41, ...encodeS32(limits.initialPages), 0x0b]);
  const lowWaterGlobal = pagesGlobal + 1;
  if (stack) globalContent.items.push([I32, 0x01, 0x41, ...encodeS32(stack.top), 0x0b]);
  const replacements: Replacements = {
    size: [0x23, ...encodeU32(pagesGlobal)],
    grow: [0x10, ...encodeU32(growFunction)],
    setStackPointer: stack && [0x10, ...encodeU32(growFunction + 1)],
  };
  const codeContent = rewriteCode(bytes, code, replacements);
  codeContent.items.push(growBody(pagesGlobal));
  if (stack) codeContent.items.push(setStackPointerBody(lowWaterGlobal));
  const added = stack ? 2 : 1;

  const out = new Chunks();
  out.push(bytes.subarray(0, 8));
  let globalWritten = false;
  const section = (id: number, content: { count: number; items: Chunks }, extra = 1) => {
    const count = encodeU32(content.count + extra);
    out.push([id, ...encodeU32(count.length + content.items.length), ...count]);
    out.push(...content.items.parts);
    if (id === SECTION.global) globalWritten = true;
  };
  for (const s of sections) {
    if (!globals && AFTER_GLOBAL.has(s.id) && !globalWritten) {
      section(SECTION.global, globalContent, added);
    }
    if (s.id === SECTION.type) section(s.id, typeContent, addedTypes);
    else if (s.id === SECTION.function) section(s.id, fnContent, added);
    else if (s.id === SECTION.global) section(s.id, globalContent, added);
    else if (s.id === CODE) section(s.id, codeContent, added);
    else out.push(bytes.subarray(s.start, s.end));
  }
  return {
    bytes: out.bytes(),
    pagesGlobal,
    stack: stack && { ...stack, lowWaterGlobal },
  };
}

function countImports(
  bytes: Uint8Array,
  section: { contentStart: number; end: number } | undefined,
) {
  const counts = { functions: 0, globals: 0, memories: 0 };
  if (!section) return counts;
  const r = new Reader(bytes, section.contentStart, section.end);
  for (let n = r.u32(); n > 0; n--) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0x00) {
      r.u32();
      counts.functions++;
    } else if (kind === 0x01) {
      r.byte();
      r.limits();
    } else if (kind === 0x02) {
      r.limits();
      counts.memories++;
    } else if (kind === 0x03) {
      r.valueType();
      r.byte();
      counts.globals++;
    } else if (kind === 0x04) {
      r.byte();
      r.u32();
    } else {
      throw new Unsupported('unknown import kind');
    }
  }
  return counts;
}

/** Each function type as `params>results` text (`i32>i32`), to find one to reuse. */
function readTypes(bytes: Uint8Array, section: { contentStart: number; end: number }): string[] {
  const r = new Reader(bytes, section.contentStart, section.end);
  const types: string[] = [];
  for (let n = r.u32(); n > 0; n--) {
    if (r.byte() !== 0x60) throw new Unsupported('non-function type');
    const params = Array.from({ length: r.u32() }, () => r.valueType());
    const results = Array.from({ length: r.u32() }, () => r.valueType());
    types.push(`${params.join(',')}>${results.join(',')}`);
  }
  return types;
}

/** A vector section's item count and its items' bytes, to append to. */
function sectionItems(
  bytes: Uint8Array,
  section: { contentStart: number; end: number },
): { count: number; items: Chunks } {
  const r = new Reader(bytes, section.contentStart, section.end);
  const count = r.u32();
  const items = new Chunks();
  items.push(bytes.subarray(r.pos, section.end));
  return { count, items };
}

/** What replaces memory.size, memory.grow and (for a shadow stack) `global.set 0`. */
interface Replacements {
  size: number[];
  grow: number[];
  setStackPointer: number[] | undefined;
}

/** The code section's bodies with memory.size, memory.grow and stack pointer sets replaced. */
function rewriteCode(
  bytes: Uint8Array,
  section: { contentStart: number; end: number },
  replacements: Replacements,
): { count: number; items: Chunks } {
  const r = new Reader(bytes, section.contentStart, section.end);
  const count = r.u32();
  const items = new Chunks();
  for (let n = 0; n < count; n++) {
    const size = r.u32();
    const end = r.pos + size;
    const body = new Reader(bytes, r.pos, end);
    for (let locals = body.u32(); locals > 0; locals--) {
      body.u32();
      body.byte();
    }
    const out = new Chunks();
    out.push(bytes.subarray(r.pos, body.pos));
    let copied = body.pos;
    while (body.pos < end) {
      const at = body.pos;
      const op = body.byte();
      skipImmediates(body, op);
      // The immediate, decoded: an index may be written in a padded LEB128 (0x80 0x00 is 0).
      const immediate = op === OP.globalSet ? new Reader(bytes, at + 1, end).u32() : bytes[at + 1];
      const replacement = replacementOf(op, immediate, replacements);
      if (replacement) {
        out.push(bytes.subarray(copied, at), replacement);
        copied = body.pos;
      }
    }
    out.push(bytes.subarray(copied, end));
    items.push(encodeU32(out.length), ...out.parts);
    r.pos = end;
  }
  return { count, items };
}

function replacementOf(op: number, immediate: number | undefined, r: Replacements) {
  const memoryOp = op === OP.memorySize || op === OP.memoryGrow;
  if (memoryOp && immediate !== 0x00) throw new Unsupported('a second memory');
  if (op === OP.memorySize) return r.size;
  if (op === OP.memoryGrow) return r.grow;
  if (op === OP.globalSet && immediate === 0x00) return r.setStackPointer;
  return undefined;
}

/**
 * `(func (param $value i32))`: sets the stack pointer (global 0) and lowers the low-water mark
 * when the pointer goes below it.
 */
function setStackPointerBody(lowWaterGlobal: number): number[] {
  const low = encodeU32(lowWaterGlobal);
  const body = [
    0x00, // no locals
    0x20,
    0x00,
    0x24,
    0x00, // global.set 0 (the stack pointer)
    0x20,
    0x00,
    0x23,
    ...low,
    0x49, // $value < $low (unsigned)
    0x04,
    0x40,
    0x20,
    0x00,
    0x24,
    ...low,
    0x0b, // then $low = $value
    0x0b,
  ];
  return [...encodeU32(body.length), ...body];
}

/**
 * `(func (param $delta i32) (result i32) (local $old i32) (local $need i32))`: returns the page
 * count and moves it by `$delta`, growing physical memory only past its current size; -1 as
 * `memory.grow` when the memory cannot grow that far.
 */
function growBody(pagesGlobal: number): number[] {
  const g = encodeU32(pagesGlobal);
  const body = [
    0x01,
    0x02,
    I32, // two i32 locals: $old (1), $need (2)
    0x23,
    ...g,
    0x21,
    0x01, // $old = $pages
    0x20,
    0x00,
    0x41,
    0x80,
    0x80,
    0x04,
    0x20,
    0x01,
    0x6b,
    0x4b, // $delta > 65536 - $old
    0x04,
    0x40,
    0x41,
    0x7f,
    0x0f,
    0x0b, // then return -1
    0x20,
    0x01,
    0x20,
    0x00,
    0x6a,
    0x21,
    0x02, // $need = $old + $delta
    0x20,
    0x02,
    0x3f,
    0x00,
    0x4b, // $need > memory.size
    0x04,
    0x40,
    0x20,
    0x02,
    0x3f,
    0x00,
    0x6b,
    0x40,
    0x00,
    0x41,
    0x7f,
    0x46, // memory.grow($need - size) == -1
    0x04,
    0x40,
    0x41,
    0x7f,
    0x0f,
    0x0b, // then return -1
    0x0b,
    0x20,
    0x02,
    0x24,
    ...g, // $pages = $need
    0x20,
    0x01, // return $old
    0x0b,
  ];
  return [...encodeU32(body.length), ...body];
}

/** Bytes built from pieces, concatenated once (spreading a 100 KB module into numbers is slow). */
class Chunks {
  readonly parts: Uint8Array[] = [];
  length = 0;

  push(...pieces: ArrayLike<number>[]): void {
    for (const piece of pieces) {
      const bytes = piece instanceof Uint8Array ? piece : Uint8Array.from(piece);
      this.parts.push(bytes);
      this.length += bytes.length;
    }
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.parts, this.length);
  }
}

/** The signed LEB128 encoding of a non-negative 32-bit `value`. */
function encodeS32(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value === 0 && (b & 0x40) === 0) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}
