import { readFileSync } from 'node:fs';
import {
  InvalidArgumentError,
  IsolationUnsupportedError,
  MemoryLimitError,
  WasmCompileError,
  WasmFileNotFoundError,
  WasmFileReadError,
} from '../errors.js';
import { byteArray, describeValue } from './check-options.js';
import { exportMutableGlobals, reservedGlobalName } from './export-globals.js';
import { virtualizeMemorySize } from './virtual-memory-size.js';
import { capMemoryPages, readModuleInfo, type ModuleInfo, PAGE_SIZE } from './wasm-binary.js';
import type { ComponentCode } from '../component/component-code.js';
import { isComponent } from '../component/component-binary.js';

/**
 * What a call may see of the calls before it on the same instance: `'instance'` keeps guest
 * state across calls, `'call'` starts every call from the state the instance had when it became
 * ready (docs/isolation.md).
 */
export type Isolation = 'instance' | 'call';

/** The isolation modes, for option checks. */
export const ISOLATIONS: readonly Isolation[] = ['instance', 'call'];

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
  /** How much of a call's guest state the next call sees; see {@link CompileOptions.isolation}. */
  isolation: Isolation;
  /**
   * With `'call'` isolation, the reserved export names under which the rewritten module exports
   * each of its mutable globals (so they can be saved and restored); empty otherwise.
   */
  snapshotGlobals: string[];
  /**
   * With `'call'` isolation, the export name of the page count the rewritten module's
   * `memory.size`/`memory.grow` use (see `virtual-memory-size.ts`); undefined when the module
   * could not be rewritten that way (then every page grown after ready is scrubbed after a call).
   */
  pagesGlobal: string | undefined;
  /**
   * With `'call'` isolation, for an LLVM-built guest: its stack region and the export of the
   * stack pointer's low-water mark (see `shadow-stack.ts`).
   */
  shadowStack: { low: number; top: number; lowWaterGlobal: string } | undefined;
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
  /**
   * `'call'`: every call starts from the state the instance had when it became ready (after its
   * start functions, `_initialize`, `wapc_init`): its memory and mutable globals are restored
   * after each call, so no call sees another's data. The module is rewritten to export its
   * mutable globals under reserved names. `'instance'`: guest state persists across calls, as in
   * the Elixir library. Default: `'instance'`.
   */
  isolation?: Isolation | undefined;
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
  const isolation = isolationMode(options.isolation);
  let snapshotGlobals: string[] = [];
  let pagesGlobal: string | undefined;
  let shadowStack: CompiledModule['shadowStack'];
  if (isolation === 'call') {
    ({ source, snapshotGlobals, pagesGlobal, shadowStack } = prepareForSnapshots(source));
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
  const info = readModuleInfo(source);
  return { module, info, maxPages, isolation, snapshotGlobals, pagesGlobal, shadowStack };
}

/** Throws unless `isolation` (an option given with an already compiled module) is the module's. */
export function checkCompiledIsolation(compiled: CompiledModule, isolation: unknown): void {
  if (isolation !== undefined && isolation !== compiled.isolation) {
    throw new InvalidArgumentError(
      `options.isolation is ${describeValue(isolation)}, but the module was compiled with ` +
        `isolation '${compiled.isolation}': compile it with compileModule(bytes, { isolation }).`,
    );
  }
}

/**
 * In-process components have no `'call'` isolation yet (a Worker gives each call of a component
 * a fresh instance instead).
 */
export function checkComponentIsolation(isolation: unknown): void {
  if (isolation !== 'call') return;
  throw new IsolationUnsupportedError(
    "isolation 'call' is not available for a component in-process yet: use a Worker, which " +
      "gives each call of a component a fresh instance, or isolation 'instance'.",
    { details: { component: true } },
  );
}

/** `options.isolation`, checked, with its default. */
export function isolationMode(isolation: unknown): Isolation {
  if (isolation === undefined) return 'instance';
  if (!ISOLATIONS.includes(isolation as Isolation)) {
    throw new InvalidArgumentError(
      `options.isolation must be 'instance' or 'call', got ${describeValue(isolation)}.`,
    );
  }
  return isolation as Isolation;
}

/**
 * The module rewritten for `'call'` isolation: a resettable page count behind `memory.size` and
 * `memory.grow` where it can be done, and every mutable global exported, so both can be restored.
 */
function prepareForSnapshots(bytes: Uint8Array): {
  source: Uint8Array;
  snapshotGlobals: string[];
  pagesGlobal: string | undefined;
  shadowStack: CompiledModule['shadowStack'];
} {
  const info = readModuleInfo(bytes);
  let virtual = info && !info.memory?.shared ? virtualizeMemorySize(bytes) : undefined;
  // Insurance: a rewrite the engine refuses falls back to scrubbing every page grown after ready.
  if (virtual && !WebAssembly.validate(virtual.bytes as Uint8Array<ArrayBuffer>))
    virtual = undefined;
  const rewritten = info && !info.memory?.shared && exportMutableGlobals(virtual?.bytes ?? bytes);
  if (!rewritten) {
    throw new IsolationUnsupportedError(
      `isolation 'call' cannot be applied to this module: ` +
        (info?.memory?.shared
          ? 'its memory is shared, so other threads may change it during a call. '
          : 'it uses WebAssembly features the binary reader does not cover. ') +
        `Use isolation 'instance' (or maxCallsPerInstance: 1 for a fresh instance per call).`,
      { details: { shared: info?.memory?.shared ?? false, readable: info !== undefined } },
    );
  }
  return {
    source: rewritten.bytes,
    snapshotGlobals: rewritten.names,
    pagesGlobal: virtual && reservedGlobalName(virtual.pagesGlobal),
    shadowStack: virtual?.stack && {
      low: virtual.stack.low,
      top: virtual.stack.top,
      lowWaterGlobal: reservedGlobalName(virtual.stack.lowWaterGlobal),
    },
  };
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
