import {
  ExportNotFoundError,
  ExportSignatureError,
  GuestExitError,
  GuestTrapError,
  MemoryLimitError,
  MemoryNotExportedError,
  WasmInstantiateError,
  type WasmtubeError,
} from '../errors.js';
import type { CompiledModule } from './compiled-module.js';
import { GuestMemory } from './guest-memory.js';
import { createWasi, GuestExit, type WasiOptions } from './wasi.js';
import { formatSignature, type FunctionSignature, type ValueType } from './wasm-binary.js';

/** The raw WebAssembly imports object handed to instantiation. */
export type GuestImports = WebAssembly.Imports;

/**
 * One live instance of a compiled module and its memory. Owns the instance lifecycle: it
 * instantiates, turns traps into typed errors, and replaces a trapped instance with a fresh one,
 * because a trap can leave the guest's heap and globals half-updated.
 */
export class GuestInstance {
  readonly compiled: CompiledModule;
  readonly #imports: GuestImports;
  readonly #wasi: WasiOptions | undefined;
  #instance!: WebAssembly.Instance;
  #memory!: GuestMemory;
  #generation = 0;

  constructor(compiled: CompiledModule, imports: GuestImports = {}, wasi?: WasiOptions) {
    this.compiled = compiled;
    this.#imports = imports;
    this.#wasi = wasi;
    this.#instantiate();
  }

  /** The instance's memory, with the host region. Replaced when the instance is reset. */
  get memory(): GuestMemory {
    return this.#memory;
  }

  /** How many times the instance has been created; 1 after construction, +1 per reset. */
  get generation(): number {
    return this.#generation;
  }

  /** Discards the instance (and all guest state) and instantiates the module again. */
  reset(): void {
    this.#instantiate();
  }

  #instantiate(): void {
    let instance: WebAssembly.Instance;
    const wasi = this.#wasi && createWasi(this.#wasi);
    const imports = wasi ? { ...this.#imports, ...wasi.imports } : this.#imports;
    try {
      instance = new WebAssembly.Instance(this.compiled.module, imports);
      wasi?.initialize(instance);
    } catch (error) {
      throw instantiateError(this.compiled, error, wasi !== undefined);
    }
    const memory = instance.exports.memory;
    if (!(memory instanceof WebAssembly.Memory)) {
      throw new MemoryNotExportedError(
        'The module exports no linear memory named "memory", so no data can be passed to it. ' +
          'Export it from the guest (Rust and AssemblyScript do by default).',
        { details: { exports: WebAssembly.Module.exports(this.compiled.module) } },
      );
    }
    this.#instance = instance;
    this.#memory = new GuestMemory(memory);
    this.#generation++;
  }

  /**
   * Looks up exported function `name` and checks it takes `params` and returns one `result`.
   * Signatures come from the binary; if it could not be read, only the arity is checked.
   */
  resolve(name: string, params: readonly ValueType[], result: ValueType): CallableFunction {
    const fn = this.#instance.exports[name];
    if (typeof fn !== 'function') {
      const available = exportedFunctions(this.#instance);
      const what = fn === undefined ? 'no export named' : 'an export that is not a function named';
      throw new ExportNotFoundError(
        `The module has ${what} "${name}". Exported functions: ${available.join(', ') || '(none)'}.`,
        { details: { name, available } },
      );
    }
    const expected: FunctionSignature = { params: [...params], results: [result] };
    const actual = this.compiled.info?.exports.find((e) => e.name === name)?.signature;
    const matches = actual
      ? sameTypes(actual.params, expected.params) && sameTypes(actual.results, expected.results)
      : fn.length === params.length;
    if (!matches) {
      const got = actual ? formatSignature(actual) : `${fn.length} parameters`;
      throw new ExportSignatureError(
        `"${name}" has the signature ${got}, but this call needs ${formatSignature(expected)}. ` +
          (params.length === 4
            ? 'Image functions take (index, length, width, height).'
            : 'Data functions take (index, length) and return the result length.'),
        { details: { name, expected, actual: actual ?? { arity: fn.length } } },
      );
    }
    return fn as CallableFunction;
  }

  /**
   * Calls a guest function. Any exception from the guest (trap, stack overflow) resets the
   * instance and is rethrown as {@link GuestTrapError}, or {@link MemoryLimitError} when the guest
   * trapped after growing its memory to the cap.
   */
  invoke(fn: CallableFunction, name: string, args: number[]): unknown {
    const pagesBefore = this.#memory.pages;
    try {
      return fn(...args);
    } catch (error) {
      const pagesAtTrap = this.#memory.pages;
      this.reset();
      throw trapError(name, error, pagesBefore, pagesAtTrap, this.compiled.maxPages);
    }
  }

  /** Names of the instance's exported functions. */
  functionNames(): string[] {
    return exportedFunctions(this.#instance);
  }
}

function exportedFunctions(instance: WebAssembly.Instance): string[] {
  return Object.entries(instance.exports)
    .filter(([, value]) => typeof value === 'function')
    .map(([key]) => key);
}

function sameTypes(a: readonly ValueType[], b: readonly ValueType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function trapError(
  name: string,
  error: unknown,
  pagesBefore: number,
  pagesAtTrap: number,
  maxPages: number | undefined,
): WasmtubeError {
  const reason = error instanceof Error ? error.message : String(error);
  if (error instanceof GuestExit) {
    return new GuestExitError(
      `"${name}" ended the guest with proc_exit(${error.exitCode}). Its instance was reset, so ` +
        `its state starts over.`,
      { cause: error, details: { name, exitCode: error.exitCode } },
    );
  }
  // A guest cannot tell us why it trapped. When memory grew during the call to at least half the
  // cap, an allocation failing at the cap is by far the likeliest cause (Rust aborts on OOM).
  if (maxPages !== undefined && pagesAtTrap > pagesBefore && pagesAtTrap * 2 >= maxPages) {
    return new MemoryLimitError(
      `"${name}" trapped (${reason}) after growing its memory to ${pagesAtTrap} of ${maxPages} ` +
        `allowed pages: it most likely ran out of memory. Raise maxMemoryMb if the guest needs ` +
        `more. Its instance was reset.`,
      { cause: error, details: { name, pages: pagesAtTrap, maxPages } },
    );
  }
  return new GuestTrapError(
    `"${name}" trapped: ${reason}. The guest's instance was reset, so its state starts over.`,
    { cause: error, details: { name, reason } },
  );
}

function instantiateError(
  compiled: CompiledModule,
  error: unknown,
  wasiGranted: boolean,
): WasmtubeError {
  const reason = error instanceof Error ? error.message : String(error);
  const imports = WebAssembly.Module.imports(compiled.module);
  const needsWasi = imports.some((i) => i.module.startsWith('wasi_'));
  let hint = ' Its start function failed.';
  if (error instanceof WebAssembly.LinkError || error instanceof TypeError) {
    hint =
      ` The module imports ${imports.map((i) => `${i.module}.${i.name} (${i.kind})`).join(', ')}; ` +
      (needsWasi && !wasiGranted
        ? 'it is a WASI module: pass the wasi option (wasi: {} grants nothing).'
        : 'provide them with the imports option.');
  }
  return new WasmInstantiateError(`Instantiating the module failed: ${reason}.${hint}`, {
    cause: error,
    details: { imports },
  });
}
