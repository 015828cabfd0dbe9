/**
 * Where an LLVM-built guest (Rust, C, Zig) keeps its shadow stack, for `'call'` isolation: the
 * stack lives in linear memory below `__stack_pointer` (global 0, a mutable i32), and a call only
 * writes stack memory down to the lowest value the pointer took. The rewrite (see
 * `virtual-memory-size.ts`) records that low-water mark, and the restore skips comparing the
 * stack bytes below it — for a Rust guest, nearly all of its 1 MiB stack.
 *
 * Recognised only by the toolchain's signature: global 0 a defined mutable i32 initialised to a
 * constant, and `__data_end` and `__heap_base` exported as constant i32 globals. The stack region
 * is `[0, __stack_pointer)` when the stack comes first (rustc's `--stack-first` default), else
 * `[__data_end, __stack_pointer)`. Writes below the low-water mark would be writes to stack
 * memory no frame owned (a wild pointer): they are the one thing the restore does not look for.
 */
import { skipConstantExpression } from './export-globals.js';
import { Reader, SECTION, type RawSection } from './wasm-binary.js';

/** The stack region: bytes in `[low, top)` below the low-water mark are not compared. */
export interface ShadowStack {
  low: number;
  top: number;
}

/** The shadow stack of an LLVM-built module, or undefined when the module is not one. */
export function findShadowStack(
  bytes: Uint8Array,
  sections: RawSection[],
  importedGlobals: number,
): ShadowStack | undefined {
  const globals = sections.find((s) => s.id === SECTION.global);
  const exports = sections.find((s) => s.id === SECTION.export);
  if (importedGlobals > 0 || !globals || !exports) return undefined;
  const values = constantGlobals(bytes, globals);
  const top = values[0];
  if (top === undefined || !top.mutable) return undefined;
  const named = exportedGlobals(bytes, exports);
  const dataEnd = values[named.get('__data_end') ?? -1];
  const heapBase = values[named.get('__heap_base') ?? -1];
  if (!dataEnd || !heapBase || dataEnd.mutable || heapBase.mutable) return undefined;
  return { low: dataEnd.value < top.value ? dataEnd.value : 0, top: top.value };
}

/** Each global's constant i32 initial value and mutability (undefined for other globals). */
function constantGlobals(
  bytes: Uint8Array,
  section: RawSection,
): ({ value: number; mutable: boolean } | undefined)[] {
  const r = new Reader(bytes, section.contentStart, section.end);
  const out: ({ value: number; mutable: boolean } | undefined)[] = [];
  for (let n = r.u32(); n > 0; n--) {
    const type = r.byte();
    const mutable = r.byte() === 0x01;
    const start = r.pos;
    if (type === 0x7f && bytes[start] === 0x41) {
      r.byte();
      const value = r.u32(); // an address: positive, so its signed LEB128 reads the same
      if (r.byte() === 0x0b && value < 2 ** 31) {
        out.push({ value, mutable });
        continue;
      }
      r.pos = start;
    }
    skipConstantExpression(r);
    out.push(undefined);
  }
  return out;
}

function exportedGlobals(bytes: Uint8Array, section: RawSection): Map<string, number> {
  const r = new Reader(bytes, section.contentStart, section.end);
  const out = new Map<string, number>();
  for (let n = r.u32(); n > 0; n--) {
    const name = r.name();
    const kind = r.byte();
    const index = r.u32();
    if (kind === 0x03) out.set(name, index);
  }
  return out;
}
