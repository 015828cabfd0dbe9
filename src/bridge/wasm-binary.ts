/**
 * A small reader for the parts of the WebAssembly binary format the JS API does not expose:
 * function signatures (to check a call's arity and types before making it) and memory limits
 * (to cap memory by rewriting the module, so the engine itself enforces the cap).
 *
 * It reads only the type, import, function, memory and export sections and skips the rest.
 * Anything it does not understand (e.g. GC proposal types) makes it give up on signatures
 * rather than guess: callers then skip the signature check and let the engine decide.
 */

/** A WebAssembly value type as written in the text format. */
export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';

/** A function type: parameter and result value types. */
export interface FunctionSignature {
  params: ValueType[];
  results: ValueType[];
}

/** The limits of a linear memory, in 64 KiB pages. */
export interface MemoryLimits {
  initialPages: number;
  maximumPages: number | undefined;
  shared: boolean;
  memory64: boolean;
}

/** What a module imports or exports, with the signature of functions where known. */
export interface ModuleEntry {
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  signature?: FunctionSignature;
}

/** An import entry: its module namespace and name. */
export interface ImportEntry extends ModuleEntry {
  module: string;
}

/** The facts {@link readModuleInfo} extracts. */
export interface ModuleInfo {
  imports: ImportEntry[];
  exports: ModuleEntry[];
  /** The module's own or imported memory (index 0), if any. */
  memory: (MemoryLimits & { imported: boolean }) | undefined;
}

/** WebAssembly page size in bytes. */
export const PAGE_SIZE = 65536;

const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;
const VALUE_TYPES: Record<number, ValueType> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
};
/** Section ids of the binary format. */
export const SECTION = {
  type: 1,
  import: 2,
  function: 3,
  memory: 5,
  global: 6,
  export: 7,
} as const;

/** Thrown by the reader for binaries it does not understand; callers then give up cleanly. */
export class Unsupported extends Error {}

/** A cursor over LEB128 integers, names and types in a byte range of a module. */
export class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.end) throw new Unsupported('unexpected end of section');
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Unsupported('LEB128 too long');
    }
  }
  name(): string {
    const len = this.u32();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new Unsupported('name past end');
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, len).toString('utf8');
  }
  valueType(): ValueType {
    const t = VALUE_TYPES[this.byte()];
    if (t === undefined) throw new Unsupported('unknown value type');
    return t;
  }
  limits(): MemoryLimits {
    const flags = this.byte();
    if (flags > 0x07) throw new Unsupported('unknown limits flags');
    const memory64 = (flags & 0x04) !== 0;
    const initialPages = this.u32();
    const maximumPages = flags & 0x01 ? this.u32() : undefined;
    return { initialPages, maximumPages, shared: (flags & 0x02) !== 0, memory64 };
  }
}

/** Where a section lies in the module's bytes. */
export interface RawSection {
  id: number;
  /** Offset of the section id byte. */
  start: number;
  /** Offset of the content (after id and size). */
  contentStart: number;
  end: number;
}

/** The sections of a module, in order; throws {@link Unsupported} for a truncated binary. */
export function readSections(bytes: Uint8Array): RawSection[] {
  const reader = new Reader(bytes, 8);
  const sections: RawSection[] = [];
  while (reader.pos < bytes.length) {
    const start = reader.pos;
    const id = reader.byte();
    const size = reader.u32();
    const contentStart = reader.pos;
    const end = contentStart + size;
    if (end > bytes.length) throw new Unsupported('section past end');
    sections.push({ id, start, contentStart, end });
    reader.pos = end;
  }
  return sections;
}

/**
 * Extracts imports, exports (with function signatures) and memory limits from module bytes.
 * Returns `undefined` for anything it cannot read; the engine remains the judge of validity.
 */
export function readModuleInfo(bytes: Uint8Array): ModuleInfo | undefined {
  try {
    return parse(bytes);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function parse(bytes: Uint8Array): ModuleInfo {
  const types: FunctionSignature[] = [];
  const functionTypes: number[] = [];
  const imports: ImportEntry[] = [];
  const exportsRaw: { name: string; kind: ModuleEntry['kind']; index: number }[] = [];
  let memory: ModuleInfo['memory'];

  for (const section of readSections(bytes)) {
    const r = new Reader(bytes, section.contentStart, section.end);
    switch (section.id) {
      case SECTION.type:
        for (let n = r.u32(); n > 0; n--) {
          if (r.byte() !== 0x60) throw new Unsupported('non-function type');
          const params = Array.from({ length: r.u32() }, () => r.valueType());
          const results = Array.from({ length: r.u32() }, () => r.valueType());
          types.push({ params, results });
        }
        break;
      case SECTION.import:
        for (let n = r.u32(); n > 0; n--) {
          const module = r.name();
          const name = r.name();
          const kind = KINDS[r.byte()];
          if (kind === undefined) throw new Unsupported('unknown import kind');
          const entry: ImportEntry = { module, name, kind };
          if (kind === 'function') {
            const typeIndex = r.u32();
            functionTypes.push(typeIndex);
            const signature = types[typeIndex];
            if (signature) entry.signature = signature;
          } else if (kind === 'table') {
            r.byte();
            r.limits();
          } else if (kind === 'memory') {
            const limits = r.limits();
            memory ??= { ...limits, imported: true };
          } else if (kind === 'global') {
            r.valueType();
            r.byte();
          } else {
            r.byte();
            r.u32();
          }
          imports.push(entry);
        }
        break;
      case SECTION.function:
        for (let n = r.u32(); n > 0; n--) functionTypes.push(r.u32());
        break;
      case SECTION.memory:
        if (r.u32() > 0) memory ??= { ...r.limits(), imported: false };
        break;
      case SECTION.export:
        for (let n = r.u32(); n > 0; n--) {
          const name = r.name();
          const kind = KINDS[r.byte()];
          if (kind === undefined) throw new Unsupported('unknown export kind');
          exportsRaw.push({ name, kind, index: r.u32() });
        }
        break;
      default:
        break;
    }
  }

  const exports = exportsRaw.map(({ name, kind, index }): ModuleEntry => {
    const typeIndex = kind === 'function' ? functionTypes[index] : undefined;
    const signature = typeIndex === undefined ? undefined : types[typeIndex];
    return signature ? { name, kind, signature } : { name, kind };
  });
  return { imports, exports, memory };
}

/** The unsigned LEB128 encoding of `value`. */
export function encodeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

/**
 * Returns a copy of `bytes` whose defined memory 0 has `maximum = min(maximum, maxPages)`, so
 * `memory.grow` past the cap fails inside the engine. Returns `undefined` when the module has no
 * memory section it can rewrite (imported memory, memory64, or an unreadable binary).
 * Throws a RangeError when the memory's initial size already exceeds the cap.
 */
export function capMemoryPages(bytes: Uint8Array, maxPages: number): Uint8Array | undefined {
  let sections: RawSection[];
  try {
    sections = readSections(bytes);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
  const section = sections.find((s) => s.id === SECTION.memory);
  if (!section) return undefined;
  const r = new Reader(bytes, section.contentStart, section.end);
  let count: number;
  let limits: MemoryLimits;
  try {
    count = r.u32();
    if (count === 0) return undefined;
    limits = r.limits();
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
  if (limits.memory64) return undefined;
  if (limits.initialPages > maxPages) {
    throw new RangeError(
      `the module's memory starts at ${limits.initialPages} pages, above the cap of ${maxPages}`,
    );
  }
  const maximum = Math.min(limits.maximumPages ?? Infinity, maxPages);
  const flags = 0x01 | (limits.shared ? 0x02 : 0);
  const content = [
    ...encodeU32(count),
    flags,
    ...encodeU32(limits.initialPages),
    ...encodeU32(maximum),
    ...bytes.subarray(r.pos, section.end),
  ];
  return replaceSection(bytes, section, SECTION.memory, content);
}

/**
 * Returns a copy of `bytes` with `section` replaced by a section `id` holding `content` (or,
 * with `section` a bare offset, that section inserted there).
 */
export function replaceSection(
  bytes: Uint8Array,
  section: Pick<RawSection, 'start' | 'end'>,
  id: number,
  content: ArrayLike<number>,
): Uint8Array {
  const header = [id, ...encodeU32(content.length)];
  const out = new Uint8Array(
    bytes.length - (section.end - section.start) + header.length + content.length,
  );
  out.set(bytes.subarray(0, section.start), 0);
  out.set(header, section.start);
  out.set(content, section.start + header.length);
  out.set(bytes.subarray(section.end), section.start + header.length + content.length);
  return out;
}

/** Formats a signature like `(i32, i32) -> i32`. */
export function formatSignature(signature: FunctionSignature): string {
  const results =
    signature.results.length === 1 ? signature.results[0] : `(${signature.results.join(', ')})`;
  return `(${signature.params.join(', ')}) -> ${results || '()'}`;
}
