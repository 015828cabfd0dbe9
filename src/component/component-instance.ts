/**
 * One live instance of a component: it grants the imports (host interfaces, the WASI sandbox),
 * checks arguments against the WIT types before the guest runs, turns results into JS or JSON,
 * and replaces an instance that trapped (a trapped component cannot be entered again).
 */
import { Script } from 'node:vm';
import {
  ExportNotFoundError,
  ExportSignatureError,
  GuestErrorError,
  WasmInstantiateError,
  type WasmtubeError,
} from '../errors.js';
import type { GuestHost } from '../bridge/guest-instance.js';
import { HostCallFailure } from '../bridge/host-functions.js';
import { trapError } from '../bridge/trap-error.js';
import type { CapturedOutput, WasiOptions } from '../bridge/wasi.js';
import type { ComponentCode } from './component-code.js';
import { createPreview2, type Preview2 } from './wasi-preview2.js';
import {
  camelCase,
  formatWitFunction,
  kebabCase,
  unversioned,
  type WitFunction,
} from './wit-types.js';
import { liftValue, lowerValue, type ValueMode } from './wit-values.js';

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, Record<string, unknown>>,
  instantiateCore: (
    module: WebAssembly.Module,
    imports?: WebAssembly.Imports,
  ) => WebAssembly.Instance,
) => Record<string, (...args: unknown[]) => unknown>;

/** Glue evaluated in this thread, by content hash: evaluated once, instantiated many times. */
const glues = new Map<string, Instantiate>();

function glueOf(code: ComponentCode): Instantiate {
  let instantiate = glues.get(code.hash);
  if (!instantiate) {
    const script = new Script(code.glue, {
      filename: `wasmtube-component-${code.hash.slice(0, 12)}.js`,
    });
    instantiate = script.runInThisContext() as Instantiate;
    glues.set(code.hash, instantiate);
  }
  return instantiate;
}

/** What a component instance is given besides its code. */
export interface ComponentInstanceOptions {
  wasi?: WasiOptions | undefined;
  host?: GuestHost | undefined;
  /** The memory cap in pages, if any (to tell an out-of-memory trap from others). */
  maxPages?: number | undefined;
}

/** A component's live instance, replaced after a trap; see the file's comment. */
export class ComponentInstance {
  readonly code: ComponentCode;
  readonly #options: ComponentInstanceOptions;
  readonly #functions: Map<string, WitFunction>;
  /** jco's name of each export (`next-color` → `nextColor`), computed once. */
  readonly #jcoNames: Map<string, string>;
  #exports!: Record<string, (...args: unknown[]) => unknown>;
  #memory: WebAssembly.Memory | undefined;
  #wasi: Preview2 | undefined;
  #generation = 0;

  constructor(code: ComponentCode, options: ComponentInstanceOptions = {}) {
    this.code = code;
    this.#options = options;
    this.#functions = new Map(code.world.functions.map((fn) => [fn.name, fn]));
    this.#jcoNames = new Map(code.world.functions.map((fn) => [fn.name, camelCase(fn.name)]));
    this.#instantiate();
  }

  /** 1 after construction, +1 per reset. */
  get generation(): number {
    return this.#generation;
  }

  /** Bytes of the component's main linear memory (0 if it has none). */
  get memoryBytes(): number {
    return this.#memory?.buffer.byteLength ?? 0;
  }

  /** Output captured (`'capture'`) since the last time it was taken. */
  takeOutput(): CapturedOutput {
    return this.#wasi?.takeOutput() ?? { stdout: '', stderr: '' };
  }

  /** Discards the instance and all its state, and instantiates the component again. */
  reset(): void {
    this.#instantiate();
  }

  #instantiate(): void {
    const wasi = this.#options.wasi ? createPreview2(this.#options.wasi) : undefined;
    const imports = this.#imports(wasi);
    let memory: WebAssembly.Memory | undefined;
    const instantiateCore = (module: WebAssembly.Module, given?: WebAssembly.Imports) => {
      const instance = new WebAssembly.Instance(module, given);
      const exported = instance.exports.memory;
      if (!memory && exported instanceof WebAssembly.Memory) memory = exported;
      return instance;
    };
    let exports: unknown;
    try {
      exports = glueOf(this.code)((name) => this.code.coreModules[name]!, imports, instantiateCore);
    } catch (error) {
      throw new WasmInstantiateError(
        `Instantiating the component failed: ${(error as Error)?.message ?? String(error)}.`,
        { cause: error, details: { missing: [] } },
      );
    }
    this.#exports = exports as Record<string, (...args: unknown[]) => unknown>;
    this.#memory = memory;
    this.#wasi?.close(); // the files the replaced instance left open
    this.#wasi = wasi;
    this.#generation++;
  }

  /** The imports object for the glue; `ERR_WASM_INSTANTIATE` listing every import not granted. */
  #imports(wasi: Preview2 | undefined): Record<string, Record<string, unknown>> {
    const grants = new Map<string, string>(); // unversioned key → the key as granted
    for (const module of Object.keys(this.#options.host?.signatures ?? {})) {
      grants.set(unversioned(module), module);
    }
    const imports: Record<string, Record<string, unknown>> = {};
    const missing: string[] = [];
    for (const { key, names } of this.code.imports) {
      const granted = grants.get(key);
      const sandbox = wasi?.interfaces[key];
      const table: Record<string, unknown> = {};
      for (const name of names) {
        if (granted) {
          const fnName = Object.keys(this.#options.host!.signatures[granted]!).find(
            (n) => camelCase(n) === name,
          );
          if (fnName) {
            table[name] = this.#hostFunction(granted, fnName);
            continue;
          }
        }
        if (sandbox && name in sandbox) table[name] = sandbox[name];
        else missing.push(`${this.#witImportName(key)}.${kebabCase(name)}`);
      }
      imports[key] = table;
    }
    if (missing.length > 0) {
      const wasiMissing = missing.some((m) => m.startsWith('wasi:'));
      throw new WasmInstantiateError(
        `The component imports what was not granted: ${missing.join(', ')}. Grant an interface ` +
          `with hostFunctions: { '<interface>': { <function>: fn } }` +
          (wasiMissing && !this.#options.wasi
            ? '; WASI interfaces come with the wasi option (wasi: {} grants nothing of this process).'
            : wasiMissing
              ? '; wasmtube provides wasi:cli, wasi:io, wasi:clocks, wasi:random and (without files) wasi:filesystem.'
              : '.'),
        { details: { missing, imports: this.code.world.imports } },
      );
    }
    return imports;
  }

  /** The import's name as the world writes it (with its version), for messages. */
  #witImportName(key: string): string {
    return this.code.world.imports.find((i) => unversioned(i) === key) ?? key;
  }

  #hostFunction(module: string, name: string): (...args: unknown[]) => unknown {
    const invoke = this.#options.host!.invoke;
    const label = `${module}.${name}`;
    return (...args) => {
      try {
        return invoke(module, name, args);
      } catch (error) {
        // A thrown non-Error is an import's `err` value, as jco takes it; an Error is a failure.
        if (!(error instanceof Error) || error instanceof HostCallFailure) throw error;
        throw new HostCallFailure(label, error);
      }
    };
  }

  /** The exported function `name` with its WIT type; `ERR_EXPORT_NOT_FOUND` if there is none. */
  function(name: string): WitFunction {
    const fn = this.#functions.get(name);
    if (fn && typeof this.#exports[this.#jcoNames.get(name)!] === 'function') return fn;
    const available = [...this.#functions.keys()];
    throw new ExportNotFoundError(
      `The component exports no function "${name}". Its functions: ${available.join(', ') || '(none)'}.`,
      { details: { name, available } },
    );
  }

  /**
   * Calls `name` with positional arguments (typed calls) or, for `'json'`, an object keyed by
   * parameter names. Arguments are checked against the WIT types before the guest runs.
   */
  call(name: string, args: unknown[] | Record<string, unknown>, mode: ValueMode): unknown {
    const fn = this.function(name);
    const values = Array.isArray(args) ? positional(fn, args) : named(fn, args);
    const lowered = values.map((v, i) =>
      lowerValue(v, fn.params[i]!.type, mode, fn.params[i]!.name),
    );
    const pagesBefore = this.#pages();
    let result: unknown;
    try {
      result = this.#exports[this.#jcoNames.get(name)!]!(...lowered);
    } catch (error) {
      if (fn.result?.kind === 'result' && isErrValue(error)) {
        const payload = isComponentError(error) ? error.payload : error;
        const value = fn.result.err ? liftValue(payload, fn.result.err, 'json') : null;
        throw new GuestErrorError(
          `"${name}" returned an error: ${typeof value === 'string' ? value : JSON.stringify(value)}.`,
          { cause: error, details: { name, value } },
        );
      }
      const pagesAtTrap = this.#pages();
      this.reset();
      throw trapError(error, {
        name,
        guest: 'component',
        pagesBefore,
        pagesAtTrap,
        maxPages: this.#options.maxPages,
      });
    }
    if (fn.result?.kind === 'result') {
      return fn.result.ok
        ? liftValue(result, fn.result.ok, mode)
        : mode === 'json'
          ? null
          : undefined;
    }
    return fn.result ? liftValue(result, fn.result, mode) : mode === 'json' ? null : undefined;
  }

  #pages(): number {
    return this.memoryBytes / 65536;
  }
}

function positional(fn: WitFunction, args: unknown[]): unknown[] {
  if (args.length !== fn.params.length) {
    throw new ExportSignatureError(
      `"${fn.name}" is ${formatWitFunction(fn)}: it takes ${fn.params.length} argument(s), got ${args.length}.`,
      { details: { name: fn.name, type: formatWitFunction(fn), given: args.length } },
    );
  }
  return args;
}

function named(fn: WitFunction, data: Record<string, unknown>): unknown[] {
  const known = new Set(fn.params.flatMap((p) => [p.name, camelCase(p.name)]));
  const unknown = Object.keys(data).filter((k) => !known.has(k));
  const absent = fn.params.filter(
    (p) => !(p.name in data) && !(camelCase(p.name) in data) && p.type.kind !== 'option',
  );
  if (unknown.length > 0 || absent.length > 0) {
    throw new ExportSignatureError(
      `"${fn.name}" is ${formatWitFunction(fn)}: pass { data } with its parameters by name` +
        (absent.length > 0 ? `; missing: ${absent.map((p) => p.name).join(', ')}` : '') +
        (unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : '') +
        '.',
      {
        details: {
          name: fn.name,
          type: formatWitFunction(fn),
          missing: absent.map((p) => p.name),
          unknown,
        },
      },
    );
  }
  return fn.params.map((p) => (p.name in data ? data[p.name] : data[camelCase(p.name)]));
}

/**
 * An `err` the export returned, which jco throws as the bare value (or wraps in a
 * `ComponentError` with `payload`); a trap or a failure of ours is an `Error`.
 */
function isErrValue(error: unknown): boolean {
  return isComponentError(error) || !(error instanceof Error);
}

function isComponentError(error: unknown): error is { payload: unknown } {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Error).name === 'ComponentError' &&
    'payload' in error
  );
}
