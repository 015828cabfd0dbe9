import { WasmCompileError } from '../errors.js';
import { conventionOf, hasAllocator, type Convention } from '../bridge/conventions.js';
import { formatSignature, readModuleInfo } from '../bridge/wasm-binary.js';
import { sha256 } from '../util/sha256.js';

/** How an exported function can be called: the bridge's conventions (docs/ABI.md). */
export type CallingConvention = Convention;

/** An exported function. */
export interface FunctionDescription {
  name: string;
  /** The signature as text, e.g. `(i32, i32) -> i32`; `unknown` if it could not be read. */
  type: string;
  convention: CallingConvention;
}

/** An import of the module. */
export interface ImportDescription {
  module: string;
  name: string;
  kind: string;
  /** For functions, the signature as text. */
  type?: string;
}

/** Linear memory limits, in pages (64 KiB) and MiB. */
export interface MemoryDescription {
  initialPages: number;
  maximumPages: number | undefined;
  initialMb: number;
  maximumMb: number | undefined;
  shared: boolean;
  memory64: boolean;
  imported: boolean;
}

/** What `wasmtube inspect` prints and `GET /functions` lists for a module. */
export interface ModuleDescription {
  sizeBytes: number;
  /** sha256 of the bytes, hex. */
  sha256: string;
  /** Exported functions, in export order. */
  functions: FunctionDescription[];
  /** Other exports (memories, globals, tables). */
  otherExports: { name: string; kind: string }[];
  imports: ImportDescription[];
  memory: MemoryDescription | undefined;
  /** The module imports WASI preview 1 (`wasi_snapshot_preview1`, or the older `wasi_unstable`). */
  wasi: boolean;
  /** False when the binary uses features the reader does not cover: signatures are then `unknown`. */
  signaturesKnown: boolean;
  /**
   * Present for a WebAssembly component: its world in WIT. Its functions have WIT types, its
   * imports are interfaces (`name: '*'`), and `wasi` says it imports `wasi:` interfaces.
   */
  component?: { wit: string };
}

const PAGE = 65536;
const WASI_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);

/**
 * Describes module bytes without compiling them: functions with their calling convention,
 * imports, memory limits, WASI. Compile the bytes (`WebAssembly.validate`) to know they are valid.
 * @throws `ERR_WASM_COMPILE` for bytes that are not a module the engine can read
 */
export function describeModule(bytes: Uint8Array): ModuleDescription {
  const info = readModuleInfo(bytes);
  const hash = sha256(bytes);
  if (!info) {
    // The reader gave up (e.g. GC types, or not a module at all): fall back to the engine's view,
    // without signatures.
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    } catch (error) {
      throw new WasmCompileError(
        `The ${bytes.length} bytes are not a valid WebAssembly module: ${(error as Error).message}.`,
        { cause: error, details: { bytes: bytes.length } },
      );
    }
    const imports = WebAssembly.Module.imports(module);
    return {
      sizeBytes: bytes.length,
      sha256: hash,
      functions: WebAssembly.Module.exports(module)
        .filter((e) => e.kind === 'function')
        .map((e) => ({
          name: e.name,
          type: 'unknown',
          convention: conventionOf(e.name, undefined, false),
        })),
      otherExports: WebAssembly.Module.exports(module)
        .filter((e) => e.kind !== 'function')
        .map((e) => ({ name: e.name, kind: e.kind })),
      imports: imports.map((i) => ({ module: i.module, name: i.name, kind: i.kind })),
      memory: undefined,
      wasi: imports.some((i) => WASI_MODULES.has(i.module)),
      signaturesKnown: false,
    };
  }
  const allocator = hasAllocator(info.exports);
  return {
    sizeBytes: bytes.length,
    sha256: hash,
    functions: info.exports
      .filter((e) => e.kind === 'function')
      .map((e) => ({
        name: e.name,
        type: e.signature ? formatSignature(e.signature) : 'unknown',
        convention: conventionOf(e.name, e.signature, allocator),
      })),
    otherExports: info.exports
      .filter((e) => e.kind !== 'function')
      .map((e) => ({ name: e.name, kind: e.kind })),
    imports: info.imports.map((i) => ({
      module: i.module,
      name: i.name,
      kind: i.kind,
      ...(i.signature ? { type: formatSignature(i.signature) } : {}),
    })),
    memory: info.memory && {
      initialPages: info.memory.initialPages,
      maximumPages: info.memory.maximumPages,
      initialMb: (info.memory.initialPages * PAGE) / 2 ** 20,
      maximumMb:
        info.memory.maximumPages === undefined
          ? undefined
          : (info.memory.maximumPages * PAGE) / 2 ** 20,
      shared: info.memory.shared,
      memory64: info.memory.memory64,
      imported: info.memory.imported,
    },
    wasi: info.imports.some((i) => WASI_MODULES.has(i.module)),
    signaturesKnown: true,
  };
}
