/**
 * The bridge to a component, behind `Wasmtube` (which delegates here when it was given a
 * component): the load (transpile and compile, asynchronous, once per content), the call
 * queue, and calls by JSON (`callFunction`, parameters by WIT name) or by position (`call`).
 */
import { asBuffer } from '../bridge/buffers.js';
import type { CompiledModule } from '../bridge/compiled-module.js';
import { describeComponent, type ExportInfo } from '../bridge/describe-exports.js';
import type { GuestHost } from '../bridge/guest-instance.js';
import { hostSignatures, invokeSync, type HostFunctions } from '../bridge/host-functions.js';
import { decodeJson, encodeJson } from '../bridge/json-codec.js';
import type { CapturedOutput, WasiOptions } from '../bridge/wasi.js';
import { InvalidArgumentError } from '../errors.js';
import type { CallInput, CallOptions } from '../types.js';
import { abortError, SerialQueue } from '../util/serial-queue.js';
import { compileGuest } from './compile-guest.js';
import { ComponentInstance } from './component-instance.js';

/** The options of `Wasmtube` that apply to a component. */
export interface ComponentBridgeOptions {
  maxMemoryMb?: number | undefined;
  wasi?: WasiOptions | undefined;
  hostFunctions?: HostFunctions | undefined;
}

/** One component instance behind a `Wasmtube`: its load, its call queue, its calls. */
export class ComponentBridge {
  /** Settles once the component is loaded: rejects with the load's error. */
  readonly ready: Promise<void>;
  readonly #queue = new SerialQueue();
  #instance: ComponentInstance | undefined;
  /** Why the load failed, once it has. */
  #loadError: unknown;
  #lastOutput: CapturedOutput = { stdout: '', stderr: '' };

  private constructor(loading: Promise<ComponentInstance>) {
    this.ready = loading.then(
      (instance) => {
        this.#instance = instance;
      },
      (error: unknown) => {
        this.#loadError = error;
        throw error;
      },
    );
    // A load error is reported by `ready` and by every call; unobserved, it must not crash.
    this.ready.catch(() => undefined);
  }

  /** Starts loading component bytes; calls wait for it. */
  static load(bytes: Uint8Array, options: ComponentBridgeOptions): ComponentBridge {
    const loading = compileGuest(bytes, { maxMemoryMb: options.maxMemoryMb }).then((compiled) =>
      instantiate(compiled, options, undefined),
    );
    return new ComponentBridge(loading);
  }

  /** Instantiates a compiled component, synchronously (in a worker thread, say). */
  static fromCompiled(
    compiled: CompiledModule,
    options: ComponentBridgeOptions,
    host: GuestHost | undefined,
  ): ComponentBridge {
    const instance = instantiate(compiled, options, host);
    const bridge = new ComponentBridge(Promise.resolve(instance));
    bridge.#instance = instance;
    return bridge;
  }

  /** The instance, or why there is none yet. */
  get #loaded(): ComponentInstance {
    if (this.#loadError !== undefined) throw this.#loadError;
    if (!this.#instance) {
      throw new InvalidArgumentError(
        'The component is still loading (components are transpiled asynchronously): await ' +
          'bridge.ready, or use Wasmtube.load(), before calling it synchronously.',
      );
    }
    return this.#instance;
  }

  get generation(): number {
    return this.#instance?.generation ?? 0;
  }

  get memoryBytes(): number {
    return this.#instance?.memoryBytes ?? 0;
  }

  get lastOutput(): CapturedOutput {
    return this.#lastOutput;
  }

  reset(): void {
    this.#loaded.reset();
  }

  /** The component's exported functions with their WIT types. */
  exports(): ExportInfo[] {
    return describeComponent(this.#loaded.code.world.functions, 'instance');
  }

  /** `callFunction` on a component: `{ data }` holds the parameters by WIT name. */
  async callFunction(name: string, input: CallInput, options: CallOptions): Promise<unknown> {
    const { signal } = options;
    return this.#queue.run(async () => {
      await this.ready;
      if (signal?.aborted) throw abortError(signal);
      return this.callFunctionSync(name, input, options);
    }, signal);
  }

  callFunctionSync(name: string, input: CallInput, options: Pick<CallOptions, 'returns'>): unknown {
    const returns = options.returns ?? 'json';
    if (returns !== 'json' && returns !== 'bytes') {
      throw new InvalidArgumentError(
        `A component's results are JSON: returns may be 'json' or 'bytes' (its UTF-8 JSON), not '${returns}'.`,
      );
    }
    const params = parameters(name, input);
    const result = this.#run((instance) => instance.call(name, params, 'json'));
    return returns === 'bytes' ? asBuffer(encodeJson(result)) : result;
  }

  /** A typed call: positional arguments checked against the WIT types. */
  async call(name: string, args: unknown[], signal: AbortSignal | undefined): Promise<unknown> {
    return this.#queue.run(async () => {
      await this.ready;
      if (signal?.aborted) throw abortError(signal);
      return this.#run((instance) => instance.call(name, args, 'js'));
    }, signal);
  }

  #run(call: (instance: ComponentInstance) => unknown): unknown {
    const instance = this.#loaded;
    instance.takeOutput(); // what an earlier call wrote is not this call's
    try {
      return call(instance);
    } finally {
      this.#lastOutput = instance.takeOutput();
    }
  }
}

function instantiate(
  compiled: CompiledModule,
  options: ComponentBridgeOptions,
  remote: GuestHost | undefined,
): ComponentInstance {
  const functions = options.hostFunctions;
  const host =
    remote ??
    (functions && { signatures: hostSignatures(functions), invoke: invokeSync(functions) });
  return new ComponentInstance(compiled.component!, {
    wasi: options.wasi,
    host,
    maxPages: compiled.maxPages,
  });
}

/** The parameters object of a JSON call: `{ data }`, or `{ bytes }` of its UTF-8 JSON (a Worker's). */
function parameters(name: string, input: CallInput): Record<string, unknown> {
  let data: unknown;
  if (typeof input === 'object' && input !== null && 'data' in input) data = input.data;
  else if (typeof input === 'object' && input !== null && 'bytes' in input) {
    // A Worker sends { data } as its JSON; other bytes are no input for a component.
    try {
      data = decodeJson(input.bytes, name);
    } catch (error) {
      throw new InvalidArgumentError(
        `Components take { data }: the bytes given to "${name}" are not the JSON of its parameters.`,
        { cause: error },
      );
    }
  } else {
    throw new InvalidArgumentError(
      `Components take { data }: an object of "${name}"'s parameters by name. Images are not a component input.`,
    );
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new InvalidArgumentError(
      `{ data } for component function "${name}" must be an object of its parameters by name ` +
        `(e.g. { "message": "hello" }), got ${Array.isArray(data) ? 'an array' : typeof data}.`,
    );
  }
  return data as Record<string, unknown>;
}
