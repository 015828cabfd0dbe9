import { asBuffer } from './bridge/buffers.js';
import { callWasmtubeAbi } from './bridge/abi-wasmtube.js';
import {
  checkCompiledIsolation,
  checkComponentIsolation,
  compileModule,
  readWasmFile,
  type CompiledModule,
  type Isolation,
} from './bridge/compiled-module.js';
import { callAllocAbi } from './bridge/abi-alloc.js';
import { wapcHandlers, type WapcHandlers } from './bridge/abi-wapc.js';
import { callAbi, type Abi } from './bridge/conventions.js';
import { describeExports, type ExportInfo } from './bridge/describe-exports.js';
import { GuestInstance, type CommandResult, type ThreadHooks } from './bridge/guest-instance.js';
import { hostSignatures, invokeSync } from './bridge/host-functions.js';
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
import { byteArray, describeValue } from './bridge/check-options.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from './bridge/image-codec.js';
import { abortError, SerialQueue } from './util/serial-queue.js';
import type { CapturedOutput } from './bridge/wasi.js';
import { InvalidArgumentError } from './errors.js';
import { checkOptions, type WasmtubeOptions } from './bridge/bridge-options.js';
import { isComponent } from './component/component-binary.js';
import { ComponentBridge } from './component/component-bridge.js';
import type { CallFunction, CallInput, CallOptions } from './types.js';

export type { ExportInfo, WasmtubeOptions };

const DEFAULTS = { resultHeadroomBytes: 1024 * 1024 } as const;

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
  /** Set for a component: every method then delegates to it, and `#core` is unused. */
  readonly #component: ComponentBridge | undefined;

  private constructor(
    core: BridgeCore | undefined,
    placement: Placement,
    component?: ComponentBridge,
  ) {
    this.#core = core!;
    this.#placement = placement;
    this.#component = component;
  }

  /**
   * Loads a module or a component (file path or bytes) and resolves once it can be called: the
   * way to load a component, which is transpiled asynchronously. Rejects as `fromFile` throws.
   * @example
   * ```ts
   * const cipher = await Wasmtube.load('cipher.wasm', { wasi: { env: { SHIFT_AMOUNT: '3' } } });
   * await cipher.call('encrypt', ['hello world']); // → 'khoor zruog'
   * ```
   */
  static async load(source: string | Uint8Array, options: WasmtubeOptions = {}): Promise<Wasmtube> {
    const bridge =
      typeof source === 'string'
        ? Wasmtube.fromFile(source, options)
        : Wasmtube.fromBinary(source, options);
    await bridge.ready;
    return bridge;
  }

  /**
   * Settles once the guest can be called: at once for a core module; for a component, once it
   * is transpiled, compiled and instantiated (rejecting with that error, which calls get too).
   */
  get ready(): Promise<void> {
    return this.#component?.ready ?? Promise.resolve();
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
    if (isComponent(bytes)) {
      checkComponentIsolation(options.isolation);
      return new Wasmtube(undefined, { kind: 'host-region' }, ComponentBridge.load(bytes, options));
    }
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
    if (compiled.component) {
      const bridge = ComponentBridge.fromCompiled(compiled, options, remote?.host);
      return new Wasmtube(undefined, { kind: 'host-region' }, bridge);
    }
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
    if (this.#component) throw unsupported('index(offset)');
    if (!Number.isInteger(offset) || offset < 0 || offset > 0xffffffff) {
      throw new InvalidArgumentError(
        `index must be a non-negative integer byte offset, got ${describeValue(offset)}.`,
      );
    }
    return new Wasmtube(this.#core, { kind: 'offset', offset });
  }

  /** @internal Runs the `'call'` isolation restore a thread deferred past its reply. */
  settle(): void {
    if (!this.#component) this.#core.guest.settle();
  }

  /** Where this bridge writes payloads: a host-owned region (default) or a fixed offset. */
  get placement(): Placement {
    return this.#placement;
  }

  /** How many times the module has been instantiated (1, plus one per trap reset). */
  get instanceGeneration(): number {
    return this.#component?.generation ?? this.#core.guest.generation;
  }

  /** What a call sees of earlier calls' guest state: `'instance'` or `'call'`. */
  get isolation(): Isolation {
    if (this.#component) return 'instance';
    return this.#core.guest.compiled.isolation;
  }

  /** Current size of the guest's linear memory in bytes. */
  get memoryBytes(): number {
    return this.#component?.memoryBytes ?? this.#core.guest.memory.byteLength;
  }

  /**
   * Discards the instance and instantiates the module again: all guest state (globals, heap,
   * counters) starts over. Calls already queued run on the fresh instance.
   */
  reset(): void {
    if (this.#component) this.#component.reset();
    else this.#core.guest.reset();
  }

  /** The guest's exported functions, their signatures and calling conventions. */
  exports(): ExportInfo[] {
    if (this.#component) return this.#component.exports();
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
    if (this.#component) return this.#component.callFunction(name, input, options);
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
    if (this.#component) return this.#component.callFunctionSync(name, input, options) as T;
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
    let bytes: Uint8Array;
    if (abi === 'wapc') {
      if (prepared.image) {
        throw new InvalidArgumentError('waPC operations take data or bytes, not images.');
      }
      bytes = guest.wapcCall(name, prepared.bytes);
    } else if (abi === 'alloc') {
      bytes = callAllocAbi(guest, {
        fn: name,
        payload: prepared.bytes,
        image: prepared.image,
        into,
      });
    } else {
      // One object per call, built whole (this is the hot path of every call).
      bytes = callWasmtubeAbi(guest, {
        fn: name,
        payload: prepared.bytes,
        image: prepared.image,
        into,
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
    return this.#component?.lastOutput ?? this.#core.lastOutput;
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
    if (this.#component) throw unsupported('run()');
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
    if (this.#component) return this.#component.call(name, args, signal) as Promise<T>;
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
    if (this.#component) throw unsupported('writeBytes()');
    this.#core.guest.settle();
    const memory = this.#core.guest.memory;
    const { offset } = memory.reserve(this.#placement, bytes.length, 0);
    memory.write(offset, bytes);
    return offset;
  }

  /** Copies `length` bytes of linear memory at `offset` (the Elixir library's `read_binary`). */
  readBytes(offset: number, length: number): Buffer {
    if (this.#component) throw unsupported('readBytes()');
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

/** Bridge methods a component has no use for (its memory is its own; it has no `_start`). */
function unsupported(method: string): InstanceType<typeof InvalidArgumentError> {
  return new InvalidArgumentError(
    `${method} is for core modules; a component is called with call() and callFunction().`,
  );
}
