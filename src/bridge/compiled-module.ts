import { readFileSync } from 'node:fs';
import {
  InvalidArgumentError,
  MemoryLimitError,
  WasmCompileError,
  WasmFileNotFoundError,
  WasmFileReadError,
} from '../errors.js';
import { byteArray, describeValue } from './check-options.js';
import { capMemoryPages, readModuleInfo, type ModuleInfo, PAGE_SIZE } from './wasm-binary.js';
import type { ComponentCode } from '../component/component-code.js';
import { isComponent } from '../component/component-binary.js';

/**
 * A compiled module plus what we learnt from its bytes. Everything here can be posted to a
 * worker thread: a `WebAssembly.Module` is cloned without recompiling.
 */
export interface CompiledModule {
  module: WebAssembly.Module;
  /** Signatures and memory limits, or undefined if the binary uses features we do not read. */
  info: ModuleInfo | undefined;
  /** The engine-enforced memory cap in pages, if `maxMemoryMb` was applied. */
  maxPages: number | undefined;
  /**
   * Present when the bytes were a WebAssembly component (see src/component/): its glue, core
   * modules and world. `module` is then its main core module and `info` is undefined.
   */
  component?: ComponentCode | undefined;
}

/** Options that change how bytes become a module. */
export interface CompileOptions {
  /**
   * Cap on the guest's linear memory, in MiB, written into the module's memory limits so the engine
   * refuses `memory.grow` past it. Default: none (the engine's own limit, 4 GiB for wasm32).
   */
  maxMemoryMb?: number | undefined;
}

/** Reads a .wasm file, mapping file-system failures to typed errors. */
export function readWasmFile(path: string): Uint8Array {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('The wasm file path must be a non-empty string.');
  }
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new WasmFileNotFoundError(
        `No file at ${path}. Check the path (relative paths resolve against ${process.cwd()}).`,
        { cause: error, details: { path } },
      );
    }
    throw new WasmFileReadError(`Could not read ${path} (${code ?? 'unknown error'}).`, {
      cause: error,
      details: { path, errno: code },
    });
  }
}

/** Validates options, applies the memory cap and compiles `bytes` synchronously. */
export function compileModule(bytes: Uint8Array, options: CompileOptions = {}): CompiledModule {
  byteArray(bytes, 'The wasm binary');
  const maxPages = memoryCapPages(options.maxMemoryMb);
  if (!hasWasmHeader(bytes)) {
    throw new WasmCompileError(
      `The ${bytes.length} bytes given are not a WebAssembly binary (no \\0asm header). Pass a ` +
        `compiled .wasm file, not .wat text, a JS wrapper or an HTML error page.`,
      { details: { bytes: bytes.length } },
    );
  }
  if (isComponent(bytes)) {
    throw new WasmCompileError(
      'The bytes are a WebAssembly component, which compiles asynchronously: use ' +
        'compileGuest(bytes), Wasmtube.load(), or Wasmtube.fromFile/fromBinary and await bridge.ready.',
      { details: { bytes: bytes.length } },
    );
  }
  let source = bytes;
  if (maxPages !== undefined) {
    try {
      source = capMemoryPages(bytes, maxPages) ?? bytes;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new MemoryLimitError(`${error.message}: raise maxMemoryMb.`, {
        cause: error,
        details: { maxPages },
      });
    }
  }
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(source as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw new WasmCompileError(
      `The module does not compile: ${(error as Error).message}. Is the file truncated, or built ` +
        `for features this Node.js does not have?`,
      { cause: error, details: { bytes: bytes.length } },
    );
  }
  return { module, info: readModuleInfo(source), maxPages };
}

export function memoryCapPages(maxMemoryMb: number | undefined): number | undefined {
  if (maxMemoryMb === undefined) return undefined;
  if (typeof maxMemoryMb !== 'number' || !(maxMemoryMb > 0) || maxMemoryMb > 4096) {
    throw new InvalidArgumentError(
      `options.maxMemoryMb must be a number of MiB between 1/16 and 4096, got ${describeValue(maxMemoryMb)}.`,
    );
  }
  return Math.max(1, Math.floor((maxMemoryMb * 1024 * 1024) / PAGE_SIZE));
}

function hasWasmHeader(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 &&
    bytes[0] === 0 &&
    bytes[1] === 0x61 &&
    bytes[2] === 0x73 &&
    bytes[3] === 0x6d
  );
}
