import { asBuffer } from './bridge/buffers.js';
import { callWasmtubeAbi } from './bridge/abi-wasmtube.js';
import {
  compileModule,
  readWasmFile,
  checkCompiledIsolation,
  ISOLATIONS,
  type CompiledModule,
  type CompileOptions,
  type Isolation,
} from './bridge/compiled-module.js';
import { callAllocAbi } from './bridge/abi-alloc.js';
import {
  checkWapcOptions,
  wapcHandlers,
  type WapcHandlers,
  type WapcHostCall,
} from './bridge/abi-wapc.js';
import { callAbi, type Abi } from './bridge/conventions.js';
import { describeExports, type ExportInfo } from './bridge/describe-exports.js';
import {
  GuestInstance,
  type CommandResult,
  type GuestImports,
  type ThreadHooks,
} from './bridge/guest-instance.js';
import { hostSignatures, invokeSync, type HostFunctions } from './bridge/host-functions.js';
import { typedCall, type TypedCallOptions } from './bridge/typed-call.js';
import type { Placement } from './bridge/guest-memory.js';
import {
  checkResultBuffer,
  needsEncoding,
  preparePayload,
  preparePayloadSync,
  shapeResult,
  shapeResultSync,
  type PreparedPayload,
} from './bridge/payload.js';
import {
  checkCallOptions,
  checkName,
  checkRunOptions,
  checkTypedCall,
} from './bridge/call-arguments.js';
import {
  byteArray,
  checkHeadroomFits,
  checkKnownOptions,
  checkOptionsObject,
  checkOptionValues,
  describeValue,
  integerFrom,
  oneOf,
  resultHeadroomBytes,
  type OptionCheck,
} from './bridge/check-options.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from './bridge/image-codec.js';
import { abortError, SerialQueue } from './util/serial-queue.js';
import { checkWasiOptions, type CapturedOutput, type WasiOptions } from './bridge/wasi.js';
import { InvalidArgumentError } from './errors.js';
import type { CallFunction, CallInput, CallOptions } from './types.js';

export type { ExportInfo };

/** Options for {@link Wasmtube.fromFile} and {@link Wasmtube.fromBinary}. */
export interface WasmtubeOptions extends CompileOptions {
  /**
   * Bytes kept free past each payload in the host-owned region, for results longer than their
   * input. A result longer than payload + headroom fails with `ERR_RESULT_OUT_OF_BOUNDS`.
   * Ignored for bridges made with `.index(n)`. Default: 1 MiB (untouched pages cost no RAM).
   */
  resultHeadroomBytes?: number;
  /**
   * Pixels an encoded image input (PNG, JPEG, ...) may declare: a larger one is refused from its
   * header with `ERR_IMAGE_TOO_LARGE`, before anything is decoded (a few hundred bytes of PNG can
   * declare gigabytes of pixels). Raw RGB input is not limited. Default: 40,000,000 (40 MP).
   */
  maxImagePixels?: number;
  /**
   * Raw WebAssembly imports for modules that import functions. Default: none; a module with
   * imports then fails with `ERR_WASM_INSTANTIATE` naming them.
   */
  imports?: GuestImports;
  /**
   * Run the guest with WASI preview 1 (node:wasi). Reactor modules are initialised
   * (`_initialize`). Nothing is granted by default. Default: no WASI.
   */
  wasi?: WasiOptions;
  /**
   * Functions the guest may import, with their types (docs/ABI.md): strings and bytes arrive
   * decoded, results are written back. In-process they must be synchronous. Default: none.
   */
  hostFunctions?: HostFunctions;
  /**
   * The protocol for `callFunction`: `'auto'` picks waPC for modules exporting `__guest_call`,
   * the allocator ABI for functions returning i64 in modules exporting
   * `wasmtube_alloc`/`wasmtube_free`, else the Wasmtube ABI. Default: `'auto'`.
   */
  abi?: Abi;
  /** waPC guests: answers their `__host_call`s (synchronously, in-process). Default: none. */
  hostCall?: WapcHostCall;
  /** waPC guests: receives `__console_log` lines. Default: `NODE_DEBUG=wasmtube` output. */
  logger?: (message: string) => void;
}

const DEFAULTS = { resultHeadroomBytes: 1024 * 1024 } as const;
const OPTION_KEYS = new Set([
  'maxMemoryMb',
  'isolation',
  'resultHeadroomBytes',
  'maxImagePixels',
  'imports',
  'wasi',
  'hostFunctions',
  'abi',
  'hostCall',
  'logger',
]);
const ABIS: readonly Abi[] = ['auto', 'wasmtube', 'alloc', 'wapc'];

/** The state shared by a bridge and the `.index(n)` views of it: one instance, one queue. */
interface BridgeCore {
  guest: GuestInstance;
  lastOutput: CapturedOutput;
  queue: SerialQueue;
  headroom: number;
  maxImagePixels: number;
  abi: Abi;
}

/**
 * An in-process bridge to one instance of a WebAssembly module: it writes JSON, bytes or RGB
 * images into the guest's linear memory, calls an export and reads the result back.
 *
 * Calls on a bridge run one at a time, in the order they were made. A guest that traps gets a
 * fresh instance (its state starts over) and the call rejects with `ERR_GUEST_TRAP`.
 * A running guest call blocks the thread it runs on and cannot be interrupted: use `Worker`
 * for timeouts and isolation.
 *
 * @example
 * ```ts
 * const reply = await Wasmtube.fromFile('hello_world.wasm')
 *   .callFunction('echo', { data: { args: 'World' } });
 * ```
 */
export class Wasmtube {
  readonly #core: BridgeCore;
  readonly #placement: Placement;

  private constructor(core: BridgeCore, placement: Placement) {
    this.#core = core;
    this.#placement = placement;
  }

  /**
   * Reads, compiles and instantiates a .wasm file, synchronously.
   * @throws `ERR_WASM_FILE_NOT_FOUND`, `ERR_WASM_FILE_READ`, `ERR_WASM_COMPILE`,
   *   `ERR_WASM_INSTANTIATE`, `ERR_MEMORY_NOT_EXPORTED`, `ERR_INVALID_ARGUMENT`
   * @example
   * ```ts
   * const bridge = Wasmtube.fromFile('guest.wasm', { maxMemoryMb: 64 });
   * ```
   */
  static fromFile(path: string, options: WasmtubeOptions = {}): Wasmtube {
    checkOptions(options);
    return Wasmtube.fromBinary(readWasmFile(path), options);
  }

  /**
   * Compiles and instantiates module bytes, synchronously.
   * @example
   * ```ts
   * const bridge = Wasmtube.fromBinary(await readFile('guest.wasm'));
   * ```
   */
  static fromBinary(bytes: Uint8Array, options: WasmtubeOptions = {}): Wasmtube {
    checkOptions(options);
    return Wasmtube.fromCompiled(compileModule(bytes, options), options);
  }

  /**
   * Instantiates an already compiled module (as posted to a worker thread) without recompiling.
   * `options.maxMemoryMb` is ignored here: the cap is part of the compiled module. So is the
   * isolation: `options.isolation`, if given, must be the one the module was compiled with.
   */
  static fromCompiled(
    compiled: CompiledModule,
    options: WasmtubeOptions = {},
    /** @internal Host functions and waPC callbacks run elsewhere (a Worker's main thread). */
    remote?: ThreadHooks,
  ): Wasmtube {
    checkOptions(options);
    checkCompiledIsolation(compiled, options.isolation);
    const functions = options.hostFunctions;
    const host =
      remote?.host ??
      (functions && { signatures: hostSignatures(functions), invoke: invokeSync(functions) });
    const guest = new GuestInstance(compiled, {
      imports: options.imports,
      wasi: options.wasi,
      host,
      wapc: remote?.wapc ?? wapcHandlers(options),
      deferRestore: remote?.deferRestore,
    });
    const headroom = options.resultHeadroomBytes ?? DEFAULTS.resultHeadroomBytes;
    const abi = options.abi ?? 'auto';
    return new Wasmtube(
      {
        guest,
        queue: new SerialQueue(),
        headroom,
        maxImagePixels: options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS,
        abi,
        lastOutput: { stdout: '', stderr: '' },
      },
      { kind: 'host-region' },
    );
  }

  /**
   * A view of this bridge that writes payloads at byte offset `offset` of linear memory, exactly
   * as the Elixir library's `Wasmtube.index/2` (whose default is 42). It shares this bridge's
   * instance and call order. Only for guests that need it: a payload at a fixed offset can
   * overwrite the guest's stack or data, which the default host region never does.
   */
  index(offset: number): Wasmtube {
    if (!Number.isInteger(offset) || offset < 0 || offset > 0xffffffff) {
      throw new InvalidArgumentError(
        `index must be a non-negative integer byte offset, got ${describeValue(offset)}.`,
      );
    }
    return new Wasmtube(this.#core, { kind: 'offset', offset });
  }

  /** @internal Runs the `'call'` isolation restore a thread deferred past its reply. */
  settle(): void {
    this.#core.guest.settle();
  }

  /** Where this bridge writes payloads: a host-owned region (default) or a fixed offset. */
  get placement(): Placement {
    return this.#placement;
  }

  /** How many times the module has been instantiated (1, plus one per trap reset). */
  get instanceGeneration(): number {
    return this.#core.guest.generation;
  }

  /** What a call sees of earlier calls' guest state: `'instance'` or `'call'`. */
  get isolation(): Isolation {
    return this.#core.guest.compiled.isolation;
  }

  /** Current size of the guest's linear memory in bytes. */
  get memoryBytes(): number {
    return this.#core.guest.memory.byteLength;
  }

  /**
   * Discards the instance and instantiates the module again: all guest state (globals, heap,
   * counters) starts over. Calls already queued run on the fresh instance.
   */
  reset(): void {
    this.#core.guest.reset();
  }

  /** The guest's exported functions, their signatures and calling conventions. */
  exports(): ExportInfo[] {
    return describeExports(this.#core.guest.compiled);
  }

  /**
   * Calls guest function `name` through the Wasmtube ABI: the input is written into linear
   * memory, the guest is called as `name(index, length)` (or `name(index, length, width, height)`
   * for images), and the `length` bytes it wrote at `index` are read back. The overloads are
   * those of {@link CallFunction}.
   *
   * @example
   * ```ts
   * await bridge.callFunction('echo', { data: { args: 'Hello' } });          // → { args: 'Hello' }
   * await bridge.callFunction('image_size', { image: pngBytes });             // → { width, height }
   * const png = await bridge.callFunction('grayscale', { image: pngBytes }, { returns: 'png' });
   * ```
   */
  readonly callFunction = ((name: string, input: CallInput, options: CallOptions = {}) =>
    this.#callFunction(name, input, options)) as CallFunction;

  async #callFunction(name: string, input: CallInput, options: CallOptions): Promise<unknown> {
    checkName(name);
    checkCallOptions(options, 'callFunction');
    const { signal } = options;
    // Decoding starts now, in parallel with earlier calls; writing and calling wait their turn.
    const preparing = preparePayload(input, options.returns, this.#core.maxImagePixels);
    preparing.catch(() => undefined); // handled when awaited below; ignored if aborted first
    const result = await this.#core.queue.run(async () => {
      const prepared = await preparing;
      if (signal?.aborted) throw abortError(signal);
      return {
        bytes: this.#invoke(
          name,
          prepared,
          checkResultBuffer(options.resultBuffer, prepared.returns),
        ),
        prepared,
      };
    }, signal);
    return shapeResult(result.bytes, result.prepared, name);
  }

  /**
   * `callFunction` without a promise, for inputs and results that need no image decoding or
   * encoding (JSON, MessagePack, bytes, raw RGB with its size; results other than PNG/JPEG/WebP).
   * It runs at once, ahead of calls `callFunction` has queued.
   * @throws as `callFunction` rejects; `ERR_INVALID_ARGUMENT` for inputs or results that need sharp
   */
  callFunctionSync<T = unknown>(
    name: string,
    input: CallInput,
    options: Pick<CallOptions, 'returns' | 'resultBuffer'> = {},
  ): T {
    checkName(name);
    checkCallOptions(options, 'callFunctionSync');
    const prepared = preparePayloadSync(input, options.returns);
    if (!prepared || needsEncoding(prepared.returns)) {
      throw new InvalidArgumentError(
        'callFunctionSync takes no encoded images and returns none (sharp is asynchronous): use callFunction.',
      );
    }
    const bytes = this.#invoke(
      name,
      prepared,
      checkResultBuffer(options.resultBuffer, prepared.returns),
    );
    return shapeResultSync(bytes, prepared, name) as T;
  }

  /** Writes a prepared payload, calls the guest by the module's protocol, reads the result. */
  #invoke(name: string, prepared: PreparedPayload, into?: Uint8Array): Uint8Array {
    // 'call' isolation: the guest goes back to its ready state after the call.
    return this.#core.guest.runCall(() => this.#invokeAbi(name, prepared, into));
  }

  #invokeAbi(name: string, prepared: PreparedPayload, into?: Uint8Array): Uint8Array {
    const core = this.#core;
    const { guest } = core;
    guest.takeOutput(); // what an earlier call or the start function wrote is not this call's
    const abi = callAbi(core.abi, guest.compiled.info, guest.hasAllocator, guest.isWapc, name);
    const call = { fn: name, payload: prepared.bytes, image: prepared.image, into };
    let bytes: Uint8Array;
    if (abi === 'wapc') {
      if (prepared.image) {
        throw new InvalidArgumentError('waPC operations take data or bytes, not images.');
      }
      bytes = guest.wapcCall(name, prepared.bytes);
    } else if (abi === 'alloc') {
      bytes = callAllocAbi(guest, call);
    } else {
      bytes = callWasmtubeAbi(guest, {
        ...call,
        placement: this.#placement,
        headroom: core.headroom,
      });
    }
    core.lastOutput = guest.takeOutput();
    return bytes;
  }

  /**
   * What the last call wrote to stdout and stderr, for WASI guests whose `wasi.stdout` /
   * `wasi.stderr` is `'capture'`.
   */
  get lastOutput(): CapturedOutput {
    return this.#core.lastOutput;
  }

  /**
   * Runs a WASI command module (one exporting `_start`) on a fresh instance with these arguments
   * and stdin, and resolves its exit code and output. A `proc_exit` is an exit code here, not an
   * error. Needs the `wasi` option; its `env` and `preopens` apply.
   * @example
   * ```ts
   * const { exitCode, stdout } = await Wasmtube.fromFile('wc.wasm', { wasi: {} })
   *   .run({ args: ['wc', '-l'], stdin: 'a\nb\n' });
   * ```
   */
  async run(
    options: { args?: string[]; stdin?: string | Uint8Array; signal?: AbortSignal } = {},
  ): Promise<CommandResult> {
    checkRunOptions(options, 'run');
    const { signal, ...run } = options;
    return this.#core.queue.run(() => {
      if (signal?.aborted) throw abortError(signal);
      return this.#core.guest.runCommand(run);
    }, signal);
  }

  /**
   * Invokes waPC operation `operation` with an opaque payload and resolves the guest's response
   * (the wapc crate's `WapcHost::call`). A guest error is `ERR_GUEST_ERROR` with its message.
   * @example
   * ```ts
   * const reply = await Wasmtube.fromFile('wapc.wasm', { hostCall }).invoke('echo', payload);
   * ```
   */
  invoke(operation: string, payload: Uint8Array = new Uint8Array()): Promise<Buffer> {
    return this.callFunction(operation, { bytes: payload }, { returns: 'bytes' });
  }

  /**
   * Calls an export with plain values, checked against its real signature (Hyperlight's
   * `call_guest_function`): numbers, bigints (i64), booleans, and strings and bytes passed
   * through guest memory with the allocator ABI. See docs/ABI.md.
   *
   * @example
   * ```ts
   * await bridge.call('add', [2, 3]);                            // → 5
   * await bridge.call('greet', ['Ada'], { returns: 'string' });  // → 'Hello, Ada!'
   * ```
   */
  async call<T = unknown>(
    name: string,
    args: unknown[] = [],
    options: TypedCallOptions & { signal?: AbortSignal } = {},
  ): Promise<T> {
    checkName(name);
    checkTypedCall(args, options, 'call');
    const { signal, ...typed } = options;
    return this.#core.queue.run(() => {
      if (signal?.aborted) throw abortError(signal);
      const { guest } = this.#core;
      return guest.runCall(() => typedCall(guest, name, args, typed) as T);
    }, signal);
  }

  /**
   * Writes raw bytes where this bridge puts payloads and returns the offset, without calling
   * anything (the Elixir library's `write_binary`). With the default placement the bytes go to
   * the host region; the next call overwrites them.
   */
  writeBytes(bytes: Uint8Array): number {
    byteArray(bytes, 'writeBytes(bytes)');
    this.#core.guest.settle();
    const memory = this.#core.guest.memory;
    const { offset } = memory.reserve(this.#placement, bytes.length, 0);
    memory.write(offset, bytes);
    return offset;
  }

  /** Copies `length` bytes of linear memory at `offset` (the Elixir library's `read_binary`). */
  readBytes(offset: number, length: number): Buffer {
    for (const [what, value] of [
      ['offset', offset],
      ['length', length],
    ] as const) {
      if (!Number.isInteger(value) || value < 0) {
        throw new InvalidArgumentError(
          `readBytes: ${what} must be a non-negative integer, got ${describeValue(value)}.`,
        );
      }
    }
    this.#core.guest.settle();
    const bytes = this.#core.guest.memory.read(offset, length);
    return asBuffer(bytes);
  }
}

/** Checks for `fromFile`, `fromBinary` and `fromCompiled`, besides those of the parts. */
const OPTION_CHECKS: Readonly<Record<string, OptionCheck>> = {
  resultHeadroomBytes,
  maxImagePixels: integerFrom(1),
  abi: oneOf(ABIS),
  isolation: oneOf(ISOLATIONS),
  imports: (value, name) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(
        `${name} must be a WebAssembly imports object ({ module: { name: value } }), got ` +
          `${describeValue(value)}.`,
      );
    }
  },
  hostFunctions: (value, name) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(
        `${name} must be an object of { module: { name: { params, results, fn } } }, got ` +
          `${describeValue(value)}.`,
      );
    }
  },
};

function checkOptions(options: WasmtubeOptions): void {
  checkOptionsObject(options, 'The options of Wasmtube.fromFile/fromBinary');
  checkKnownOptions(options, OPTION_KEYS);
  checkOptionValues(options, OPTION_CHECKS);
  checkHeadroomFits(options.resultHeadroomBytes, options.maxMemoryMb);
  if (options.wasi !== undefined) checkWasiOptions(options.wasi);
  checkWapcOptions(options);
}
