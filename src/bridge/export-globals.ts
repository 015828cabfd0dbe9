/**
 * The binary rewrite behind `isolation: 'call'`: JavaScript can read and write a global only
 * through an export, and compilers keep their mutable globals private (Rust's `__stack_pointer`,
 * AssemblyScript's allocator offset). This adds an export under a reserved name for every mutable
 * global, imported or defined, so a snapshot can save and restore them. It shares the section
 * reader of `wasm-binary.ts` with the memory cap rewrite.
 */
import {
  encodeU32,
  Reader,
  readSections,
  replaceSection,
  SECTION,
  Unsupported,
  type RawSection,
} from './wasm-binary.js';

/** Exports named with this prefix are wasmtube's, not the guest's: never listed or called. */
export const RESERVED_EXPORT_PREFIX = '__wasmtube_global_';

/** The rewritten module and the export names of its mutable globals. */
export interface ExportedGlobals {
  bytes: Uint8Array;
  /** One export name per mutable global, in global index order. */
  names: string[];
}

const GLOBAL_KIND = 0x03;
/** Sections that must come after the export section (start, element, data count, code, data). */
const AFTER_EXPORT = new Set([8, 9, 12, 10, 11]);

/**
 * Returns `bytes` with every mutable global exported as `__wasmtube_global_<index>`, or
 * `undefined` when the binary uses features this reader does not cover (GC types, unknown
 * constant expressions).
 */
export function exportMutableGlobals(bytes: Uint8Array): ExportedGlobals | undefined {
  try {
    return rewrite(bytes);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

/** The reserved export name of global `index`. */
export function reservedGlobalName(index: number): string {
  return `${RESERVED_EXPORT_PREFIX}${index}`;
}

/** Whether an export is one of wasmtube's reserved ones. */
export function isReservedExport(name: string): boolean {
  return name.startsWith(RESERVED_EXPORT_PREFIX);
}

function rewrite(bytes: Uint8Array): ExportedGlobals {
  const sections = readSections(bytes);
  const mutable: number[] = [];
  let index = 0;
  for (const section of sections) {
    const r = new Reader(bytes, section.contentStart, section.end);
    if (section.id === SECTION.import) {
      for (let n = r.u32(); n > 0; n--) {
        r.name();
        r.name();
        const kind = r.byte();
        if (kind === GLOBAL_KIND) {
          r.valueType();
          if (r.byte() === 0x01) mutable.push(index);
          index++;
        } else {
          skipImportDescription(r, kind);
        }
      }
    } else if (section.id === SECTION.global) {
      for (let n = r.u32(); n > 0; n--) {
        r.valueType();
        if (r.byte() === 0x01) mutable.push(index);
        skipConstantExpression(r);
        index++;
      }
    }
  }
  const names = mutable.map(reservedGlobalName);
  if (names.length === 0) return { bytes, names };
  const added: number[] = [];
  mutable.forEach((globalIndex, i) => {
    const name = Buffer.from(names[i]!, 'utf8');
    added.push(...encodeU32(name.length), ...name, GLOBAL_KIND, ...encodeU32(globalIndex));
  });
  const exportSection = sections.find((s) => s.id === SECTION.export);
  if (!exportSection) {
    const next = sections.find((s) => AFTER_EXPORT.has(s.id));
    const at = next?.start ?? bytes.length;
    return {
      bytes: replaceSection(bytes, { start: at, end: at }, SECTION.export, [
        ...encodeU32(names.length),
        ...added,
      ]),
      names,
    };
  }
  return { bytes: appendExports(bytes, exportSection, names, added), names };
}

function appendExports(
  bytes: Uint8Array,
  section: RawSection,
  names: string[],
  added: number[],
): Uint8Array {
  const r = new Reader(bytes, section.contentStart, section.end);
  const count = r.u32();
  const entriesStart = r.pos;
  for (let n = count; n > 0; n--) {
    if (isReservedExport(r.name())) throw new Unsupported('the module uses a reserved export name');
    r.byte();
    r.u32();
  }
  const content = [
    ...encodeU32(count + names.length),
    ...bytes.subarray(entriesStart, section.end),
    ...added,
  ];
  return replaceSection(bytes, section, SECTION.export, content);
}

/** Skips the description of an imported function (0), table (1), memory (2) or tag (4). */
function skipImportDescription(r: Reader, kind: number): void {
  if (kind === 0x00) {
    r.u32();
  } else if (kind === 0x01) {
    r.byte();
    r.limits();
  } else if (kind === 0x02) {
    r.limits();
  } else if (kind === 0x04) {
    r.byte();
    r.u32();
  } else {
    throw new Unsupported('unknown import kind');
  }
}

/** Skips a global's initializer: the constant instructions up to its `end`. */
export function skipConstantExpression(r: Reader): void {
  for (;;) {
    const op = r.byte();
    switch (op) {
      case 0x0b: // end
        return;
      case 0x41: // i32.const
      case 0x42: // i64.const
        skipLeb(r);
        break;
      case 0x43: // f32.const
        r.pos += 4;
        break;
      case 0x44: // f64.const
        r.pos += 8;
        break;
      case 0x23: // global.get
      case 0xd2: // ref.func
        r.u32();
        break;
      case 0xd0: // ref.null
        r.byte();
        break;
      case 0x6a: // i32.add, sub, mul (extended constant expressions)
      case 0x6b:
      case 0x6c:
      case 0x7c: // i64.add, sub, mul
      case 0x7d:
      case 0x7e:
        break;
      case 0xfd: // v128.const
        if (r.u32() !== 0x0c) throw new Unsupported('unknown constant instruction');
        r.pos += 16;
        break;
      default:
        throw new Unsupported('unknown constant instruction');
    }
    if (r.pos > r.end) throw new Unsupported('constant expression past end');
  }
}

/** Skips a (signed or unsigned) LEB128 number of any width. */
function skipLeb(r: Reader): void {
  for (let i = 0; i < 10; i++) if ((r.byte() & 0x80) === 0) return;
  throw new Unsupported('LEB128 too long');
}
