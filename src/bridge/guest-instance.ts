import {
  ExportNotFoundError,
  ExportSignatureError,
  InvalidArgumentError,
  GuestTrapError,
  MemoryLimitError,
  MemoryNotExportedError,
  WasmInstantiateError,
  type WasmtubeError,
} from '../errors.js';
import { assemblyScriptAbort, importsAssemblyScriptAbort } from './assemblyscript-abort.js';
import type { CompiledModule } from './compiled-module.js';
import { hasAllocator } from './conventions.js';
import { checkAgainstImports, hostImports, type HostSignatures } from './host-functions.js';
import type { GuestAccess } from './guest-access.js';
import { GuestMemory } from './guest-memory.js';
import { InstanceSnapshot } from './instance-snapshot.js';
import { trapError } from './trap-error.js';
import {
  createWasi,
  GuestExit,
  type CapturedOutput,
  type WasiContext,
  type WasiOptions,
  type WasiVersion,
  wasiVersion,
} from './wasi.js';
import {
  GUEST_CALL,
  isWapcModule,
  WapcSession,
  wapcHandlers,
  type WapcHandlers,
} from './abi-wapc.js';
import {
  formatSignature,
  type FunctionSignature,
  type ModuleInfo,
  type ValueType,
} from './wasm-binary.js';

/** The raw WebAssembly imports object handed to instantiation. */
export type GuestImports = WebAssembly.Imports;

/** What a WASI command run returns. */
export interface CommandResult extends CapturedOutput {
  exitCode: number;
}

/** Host functions granted to a guest: their declared types and how to run them. */
export interface GuestHost {
  signatures: HostSignatures;
  invoke: (module: string, name: string, args: unknown[]) => unknown;
}

/** What a Worker's thread gives its instances: main-thread host callbacks, deferred restores. */
export interface ThreadHooks {
  host?: GuestHost | undefined;
  wapc?: WapcHandlers | undefined;
  /** See {@link GuestInstanceOptions.deferRestore}. */
  deferRestore?: boolean;
}

/** What a guest instance is given besides its module. */
export interface GuestInstanceOptions {
  imports?: GuestImports | undefined;
  wasi?: WasiOptions | undefined;
  host?: GuestHost | undefined;
  /** Host callbacks for waPC modules (those exporting `__guest_call`). */
  wapc?: WapcHandlers | undefined;
  /** `'call'` isolation: leave each call's restore to {@link GuestInstance.settle}. */
  deferRestore?: boolean | undefined;
}

/** What a guest without captured output wrote: one object for every call (read-only). */
const NO_OUTPUT: CapturedOutput = Object.freeze({ stdout: '', stderr: '' });

/**
 * One live instance of a compiled module and its memory. Owns the instance lifecycle: it
 * instantiates, turns traps into typed errors, and replaces a trapped instance with a fresh one,
 * because a trap can leave the guest's heap and globals half-updated.
 */
export class GuestInstance implements GuestAccess {
  readonly compiled: CompiledModule;
  /** The module exports wasmtube_alloc and wasmtube_free (the allocator ABI). */
  readonly hasAllocator: boolean;
  readonly #imports: GuestImports;
  readonly #wasi: WasiOptions | undefined;
  /** The WASI the module imports (`wasi_snapshot_preview1` or `wasi_unstable`). */
  readonly #wasiVersion: WasiVersion;
  /** The module imports AssemblyScript's `env.abort`, which the host then provides. */
  readonly #importsAbort: boolean;
  readonly #host: GuestHost | undefined;
  readonly #wapcHandlers: WapcHandlers | undefined;
  #wapc: WapcSession | undefined;
  #wasiContext: WasiContext | undefined;
  /** The module speaks waPC (exports `__guest_call`). */
  readonly isWapc: boolean;
  #instance!: WebAssembly.Instance;
  #memory!: GuestMemory;
  /** The ready state, with `'call'` isolation: restored after every call. */
  #snapshot: InstanceSnapshot | undefined;
  /** A guest function of the current call threw (its result was never read). */
  #callFailed = false;
  /** Restores wait for {@link settle} (a thread runs it once its reply went out). */
  readonly #deferRestore: boolean;
  /** A call ended and its restore is still to run: `'failed'` when the call threw. */
  #pendingRestore: 'done' | 'failed' | undefined;
  #generation = 0;
  /** Exports already checked against a signature, for this instance. */
  #resolved = new Map<string, CallableFunction>();
  /** The last lookup of {@link resolve}: a thread calls the same function over and over. */
  #lastResolved:
    | { name: string; params: readonly ValueType[]; result: string; fn: CallableFunction }
    | undefined;

  constructor(compiled: CompiledModule, options: GuestInstanceOptions = {}) {
    this.compiled = compiled;
    this.hasAllocator = hasAllocator(WebAssembly.Module.exports(compiled.module));
    this.#imports = options.imports ?? {};
    this.#wasi = options.wasi;
    this.#wasiVersion = options.wasi ? wasiVersion(compiled.module) : 'preview1';
    this.#host = options.host;
    this.isWapc = isWapcModule(WebAssembly.Module.exports(compiled.module));
    this.#importsAbort = importsAssemblyScriptAbort(compiled);
    this.#wapcHandlers = options.wapc ?? wapcHandlers({});
    this.#deferRestore = options.deferRestore === true;
    if (this.#host) checkAgainstImports(this.#host.signatures, compiled.info);
    this.#instantiate();
  }

  /** The memory, or undefined while the first instance is being created. */
  get #memoryIfAny(): GuestMemory | undefined {
    return this.#memory as GuestMemory | undefined;
  }

  /** The instance's memory, with the host region. Replaced when the instance is reset. */
  get memory(): GuestMemory {
    return this.#memory;
  }

  /** The module's imports and exports with their signatures, if the binary could be read. */
  get info(): ModuleInfo | undefined {
    return this.compiled.info;
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
    const wasi = this.#wasi && createWasi(this.#wasi, this.#wasiVersion);
    const host = this.#host && hostImports(this.#host.signatures, () => this, this.#host.invoke);
    const wapc = this.isWapc ? new WapcSession(this.#wapcHandlers!) : undefined;
    const imports = { ...this.#imports, ...wasi?.imports, ...host, ...wapc?.imports };
    // AssemblyScript's abort, unless the caller granted one (raw imports or host functions):
    // it only reads the guest's own memory and ends the call, so it needs no grant.
    if (this.#importsAbort && imports.env?.abort === undefined) {
      const abort = wapc?.abortImport ?? assemblyScriptAbort(() => this.#memoryIfAny);
      imports.env = { ...imports.env, abort };
    }
    try {
      instance = new WebAssembly.Instance(this.compiled.module, imports);
    } catch (error) {
      throw instantiateError(this.compiled, error, imports);
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
    this.#resolved = new Map();
    this.#lastResolved = undefined;
    const pages = this.compiled.pagesGlobal
      ? (instance.exports[this.compiled.pagesGlobal] as WebAssembly.Global)
      : undefined;
    // The host region is not the guest's to grow into: its page count moves past it.
    this.#memory = new GuestMemory(
      memory,
      pages && ((n) => (pages.value = Math.max(pages.value as number, n))),
    );
    this.#wapc = wapc;
    this.#wasiContext = wasi;
    wapc?.bind(() => this.#memory);
    try {
      this.#start(instance, wasi);
    } catch (error) {
      throw instantiateError(this.compiled, error, imports);
    }
    this.#snapshot =
      this.compiled.isolation === 'call'
        ? new InstanceSnapshot(
            instance,
            memory,
            this.compiled.snapshotGlobals,
            this.compiled.pagesGlobal,
            this.compiled.shadowStack,
          )
        : undefined;
    this.#callFailed = false;
    this.#pendingRestore = undefined;
    this.#generation++;
  }

  /**
   * Ends a call (successful or not), once its result was read. With `'call'` isolation the
   * instance goes back to its ready state — or is replaced when that cannot be done by restoring
   * (a table grew, memory grew past the bound). With `'instance'`, nothing happens. `failed`:
   * the call threw, so the whole host region is scrubbed, not only the bytes the host read.
   * With `deferRestore`, the restore waits for {@link settle}, which the next call runs first.
   */
  endCall(failed = false): void {
    if (!this.#snapshot) return;
    failed = failed || this.#callFailed || this.#pendingRestore === 'failed';
    this.#callFailed = false;
    this.#pendingRestore = failed ? 'failed' : 'done';
    if (!this.#deferRestore) this.settle();
  }

  /** Runs `call` as one call: a pending restore first, {@link endCall} after. */
  runCall<T>(call: () => T): T {
    this.settle();
    let failed = true;
    try {
      const result = call();
      failed = false;
      return result;
    } finally {
      this.endCall(failed);
    }
  }

  /** Runs the restore a deferred {@link endCall} left, if any. */
  settle(): void {
    const pending = this.#pendingRestore;
    if (pending === undefined) return;
    this.#pendingRestore = undefined;
    const restored = this.#snapshot!.restore(
      this.#memory.takeHostRegionUse(),
      pending === 'failed',
    );
    if (!restored) this.reset();
  }

  /** Runs what must run before the first call: WASI initialisation, waPC start functions. */
  #start(instance: WebAssembly.Instance, wasi: WasiContext | undefined): void {
    const exported = (name: string) => typeof instance.exports[name] === 'function';
    if (this.isWapc && exported('_start')) {
      if (wasi) wasi.start(instance);
      else (instance.exports._start as () => void)();
    } else {
      wasi?.initialize(instance);
    }
    if (this.isWapc && exported('wapc_init')) (instance.exports.wapc_init as () => void)();
  }

  /** Output captured (`'capture'`) since the last time it was taken. */
  takeOutput(): CapturedOutput {
    return this.#wasiContext?.takeOutput() ?? NO_OUTPUT;
  }

  /**
   * Runs a WASI command (`_start`) on a fresh instance with per-run arguments and stdin, and
   * returns its exit code and captured output. The instance serving other calls is untouched.
   */
  runCommand(run: { args?: string[]; stdin?: string | Uint8Array }): CommandResult {
    if (!this.#wasi) {
      throw new InvalidArgumentError(
        'Running a WASI command needs the wasi option (wasi: {} grants nothing).',
      );
    }
    const wasi = createWasi(
      {
        ...this.#wasi,
        ...(run.args && { args: run.args }),
        stdin: run.stdin ?? new Uint8Array(),
        stdout: 'capture',
        stderr: 'capture',
      },
      this.#wasiVersion,
    );
    const host = this.#host && hostImports(this.#host.signatures, () => this, this.#host.invoke);
    const imports = { ...this.#imports, ...wasi.imports, ...host };
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(this.compiled.module, imports);
    } catch (error) {
      throw instantiateError(this.compiled, error, imports);
    }
    if (typeof instance.exports._start !== 'function') {
      throw new ExportNotFoundError('The module exports no _start: it is not a WASI command.', {
        details: { name: '_start', available: exportedFunctions(instance) },
      });
    }
    let exitCode: number;
    try {
      exitCode = wasi.start(instance);
    } catch (error) {
      throw trapError(error, {
        name: '_start',
        guest: 'module',
        pagesBefore: 0,
        pagesAtTrap: 0,
        maxPages: this.compiled.maxPages,
      });
    }
    return { exitCode, ...wasi.takeOutput() };
  }

  /** One waPC conversation (`__guest_call`); traps are handled as for any call. */
  wapcCall(operation: string, payload: Uint8Array): Uint8Array {
    const guestCall = this.exportedFunction(GUEST_CALL);
    const session = this.#wapc!;
    return session.call(
      (opLen, msgLen) => this.invoke(guestCall, operation, [opLen, msgLen]),
      operation,
      payload,
    );
  }

  /** Exported function `name`, unchecked; `ERR_EXPORT_NOT_FOUND` listing the others if absent. */
  exportedFunction(name: string): CallableFunction {
    const fn = this.#instance.exports[name];
    if (typeof fn === 'function') return fn as CallableFunction;
    const available = exportedFunctions(this.#instance);
    const what = fn === undefined ? 'no export named' : 'an export that is not a function named';
    throw new ExportNotFoundError(
      `The module has ${what} "${name}". Exported functions: ${available.join(', ') || '(none)'}.`,
      { details: { name, available } },
    );
  }

  /**
   * Looks up exported function `name` and checks it takes `params` and returns one `result`.
   * Signatures come from the binary; if it could not be read, only the arity is checked.
   */
  resolve(
    name: string,
    params: readonly ValueType[],
    result: ValueType | 'void',
  ): CallableFunction {
    // Without building the key (a string per call) when the last call asked the same.
    const last = this.#lastResolved;
    if (last && last.name === name && last.params === params && last.result === result) {
      return last.fn;
    }
    const key = `${name}(${params.join(',')})${result}`;
    const cached = this.#resolved.get(key);
    if (cached) {
      this.#lastResolved = { name, params, result, fn: cached };
      return cached;
    }
    const fn = this.exportedFunction(name);
    const expected: FunctionSignature = {
      params: [...params],
      results: result === 'void' ? [] : [result],
    };
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
    this.#resolved.set(key, fn as CallableFunction);
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
      // With 'call' isolation, endCall restores the ready state: no new instance is needed,
      // except after proc_exit, which ends the WASI instance itself.
      const restore = this.#snapshot !== undefined && !(error instanceof GuestExit);
      if (restore) this.#callFailed = true;
      else this.reset();
      throw trapError(error, {
        name,
        guest: 'module',
        pagesBefore,
        pagesAtTrap,
        maxPages: this.compiled.maxPages,
        restored: restore,
      });
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

function instantiateError(
  compiled: CompiledModule,
  error: unknown,
  granted: WebAssembly.Imports,
): WasmtubeError {
  const reason = error instanceof Error ? error.message : String(error);
  const imports = WebAssembly.Module.imports(compiled.module);
  const missing = imports.filter(
    (i) => (granted[i.module] as Record<string, unknown>)?.[i.name] === undefined,
  );
  let hint = ' Its start function failed.';
  if (error instanceof WebAssembly.LinkError || error instanceof TypeError) {
    const names = (missing.length > 0 ? missing : imports).map(
      (i) => `${i.module}.${i.name} (${i.kind})`,
    );
    hint =
      ` Not granted: ${names.join(', ')}. ` +
      (missing.some((i) => i.module.startsWith('wasi_'))
        ? 'It is a WASI module: pass the wasi option (wasi: {} grants nothing). '
        : '') +
      'Grant functions with the hostFunctions (or raw imports) option; nothing is granted by default.';
  }
  return new WasmInstantiateError(`Instantiating the module failed: ${reason}.${hint}`, {
    cause: error,
    details: { imports, missing: missing.map((i) => `${i.module}.${i.name}`) },
  });
}
