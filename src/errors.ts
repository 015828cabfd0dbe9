/**
 * Every failure wasmtube reports is a {@link WasmtubeError} subclass with a stable `code`.
 * Match on `error.code` (see docs/errors.md); messages may be reworded between releases.
 *
 * `instanceof` works across duplicate copies of the package and for errors rebuilt after crossing
 * a worker thread, because it checks a registered symbol and the code rather than the prototype.
 */

const kWasmtubeError = Symbol.for('wasmtube.error');

/** Extra, serialisable facts about a failure (export lists, excerpts, limits). */
export type ErrorDetails = Record<string, unknown>;

/** Options accepted by every error constructor. */
export interface WasmtubeErrorOptions {
  /** The underlying error or abort reason. */
  cause?: unknown;
  /** Serialisable facts about the failure. */
  details?: ErrorDetails;
}

/**
 * Base class of every error wasmtube throws or rejects with.
 *
 * @example
 * ```ts
 * try { await bridge.callFunction('echo', { data: 1 }); }
 * catch (err) { if (err instanceof WasmtubeError && err.code === 'ERR_GUEST_TRAP') retry(); }
 * ```
 */
export class WasmtubeError extends Error {
  /** Stable machine-readable code, e.g. `ERR_GUEST_TRAP`. */
  readonly code: string;
  /** Serialisable facts about the failure. */
  readonly details: ErrorDetails;

  constructor(code: string, message: string, options: WasmtubeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WasmtubeError';
    this.code = code;
    this.details = options.details ?? {};
    Object.defineProperty(this, kWasmtubeError, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (!(value as Record<symbol, unknown>)[kWasmtubeError]) return false;
    const own = (this as { code?: string }).code;
    return own === undefined || (value as WasmtubeError).code === own;
  }
}

/** A class made by {@link defineError}. */
export type ErrorClass<C extends string> = {
  new (message: string, options?: WasmtubeErrorOptions): WasmtubeError & { readonly code: C };
  readonly code: C;
};

const classesByCode = new Map<string, ErrorClass<string>>();

/**
 * Defines an error class for `code`, registered so that `errorCodes()` lists it and
 * `deserializeError` rebuilds it. For wasmtube's own modules (the gateway defines its errors so).
 * @internal
 */
export function defineError<C extends string>(code: C, name: string): ErrorClass<C> {
  const cls = class extends WasmtubeError {
    static readonly code = code;
    declare readonly code: C;
    constructor(message: string, options?: WasmtubeErrorOptions) {
      super(code, message, options);
      this.name = name;
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  classesByCode.set(code, cls);
  return cls;
}

/** An option or argument has the wrong type or value. */
export const InvalidArgumentError = defineError('ERR_INVALID_ARGUMENT', 'InvalidArgumentError');
/** The .wasm path does not exist. */
export const WasmFileNotFoundError = defineError(
  'ERR_WASM_FILE_NOT_FOUND',
  'WasmFileNotFoundError',
);
/** The .wasm path exists but could not be read (permissions, a directory, ...). */
export const WasmFileReadError = defineError('ERR_WASM_FILE_READ', 'WasmFileReadError');
/** The bytes are not a valid WebAssembly module. */
export const WasmCompileError = defineError('ERR_WASM_COMPILE', 'WasmCompileError');
/** The module compiled but could not be instantiated (missing import, trapping start function). */
export const WasmInstantiateError = defineError('ERR_WASM_INSTANTIATE', 'WasmInstantiateError');
/** The module exports no linear memory named `memory`, so no data can be passed to it. */
export const MemoryNotExportedError = defineError(
  'ERR_MEMORY_NOT_EXPORTED',
  'MemoryNotExportedError',
);
/** The called export does not exist or is not a function; `details.available` lists functions. */
export const ExportNotFoundError = defineError('ERR_EXPORT_NOT_FOUND', 'ExportNotFoundError');
/** The export's parameters or result do not match the calling convention used. */
export const ExportSignatureError = defineError('ERR_EXPORT_SIGNATURE', 'ExportSignatureError');
/** The guest trapped (unreachable, panic, out-of-bounds access, stack overflow). */
export const GuestTrapError = defineError('ERR_GUEST_TRAP', 'GuestTrapError');
/** The guest returned an error result (allocator ABI, waPC); `details.guestMessage` has its message. */
export const GuestErrorError = defineError('ERR_GUEST_ERROR', 'GuestErrorError');
/** A host function the guest called threw, or did not answer; `details.function` names it. */
export const HostFunctionError = defineError('ERR_HOST_FUNCTION', 'HostFunctionError');
/** A WASI guest called `proc_exit` during a call; `details.exitCode` has the code. */
export const GuestExitError = defineError('ERR_GUEST_EXIT', 'GuestExitError');
/** The guest, or the host region for a payload, needed more memory than the cap allows. */
export const MemoryLimitError = defineError('ERR_MEMORY_LIMIT', 'MemoryLimitError');
/** `isolation: 'call'` cannot be applied to the module (shared memory, or a binary it cannot read). */
export const IsolationUnsupportedError = defineError(
  'ERR_ISOLATION_UNSUPPORTED',
  'IsolationUnsupportedError',
);
/** A payload written at an explicit `.index(n)` does not fit in the guest's memory. */
export const InputOutOfBoundsError = defineError(
  'ERR_INPUT_OUT_OF_BOUNDS',
  'InputOutOfBoundsError',
);
/** The guest returned a result length that is negative or reaches outside its memory or buffer. */
export const ResultOutOfBoundsError = defineError(
  'ERR_RESULT_OUT_OF_BOUNDS',
  'ResultOutOfBoundsError',
);
/** The input value cannot be encoded (e.g. JSON with a BigInt or a cycle). */
export const InputEncodeError = defineError('ERR_INPUT_ENCODE', 'InputEncodeError');
/** The guest's result bytes are not what was asked for; `details.excerpt` shows the start. */
export const ResultDecodeError = defineError('ERR_RESULT_DECODE', 'ResultDecodeError');
/** Raw RGB bytes do not match width*height*3, or a decoded image does not match the given size. */
export const ImageSizeMismatchError = defineError(
  'ERR_IMAGE_SIZE_MISMATCH',
  'ImageSizeMismatchError',
);
/** An encoded image (PNG, JPEG, WebP, ...) could not be decoded, or the bytes are no image. */
export const ImageDecodeError = defineError('ERR_IMAGE_DECODE', 'ImageDecodeError');
/**
 * An encoded image declares more pixels than allowed (the gateway's `maxImagePixels`); it was
 * refused from its header, before decoding. `details` has `width`, `height` and `maxPixels`.
 */
export const ImageTooLargeError = defineError('ERR_IMAGE_TOO_LARGE', 'ImageTooLargeError');
/** A result image could not be encoded to the requested format. */
export const ImageEncodeError = defineError('ERR_IMAGE_ENCODE', 'ImageEncodeError');
/** The call was cancelled through its AbortSignal; `cause` is `signal.reason`. */
export const AbortError = defineError('ERR_ABORTED', 'AbortError');

/** A call ran longer than its `timeoutMs`; its thread was terminated and replaced. */
export const CallTimeoutError = defineError('ERR_CALL_TIMEOUT', 'CallTimeoutError');
/** A call waited in the queue longer than `queueTimeoutMs` and never ran. */
export const QueueTimeoutError = defineError('ERR_QUEUE_TIMEOUT', 'QueueTimeoutError');
/** The queue already holds `maxQueue` calls; the call was not accepted. */
export const QueueFullError = defineError('ERR_QUEUE_FULL', 'QueueFullError');
/** The thread running the call died (crash, `process.exit`, resource limit). */
export const WorkerExitedError = defineError('ERR_WORKER_EXITED', 'WorkerExitedError');
/** The worker is stopping or stopped and does not take calls. */
export const WorkerStoppedError = defineError('ERR_WORKER_STOPPED', 'WorkerStoppedError');
/** The worker failed: its supervisor saw more restarts than `maxRestarts` within `periodMs`. */
export const RestartIntensityError = defineError('ERR_RESTART_INTENSITY', 'RestartIntensityError');
/** Threads did not finish instantiating the module within `startTimeoutMs`. */
export const StartTimeoutError = defineError('ERR_START_TIMEOUT', 'StartTimeoutError');
/** Another running worker already has this name. */
export const NameTakenError = defineError('ERR_NAME_TAKEN', 'NameTakenError');
/** No running worker has this name. */
export const WorkerNotFoundError = defineError('ERR_WORKER_NOT_FOUND', 'WorkerNotFoundError');

/** A new module version was not deployed: it did not compile, start, pass its probe, or lacked exports. */
export const ReloadRejectedError = defineError('ERR_RELOAD_REJECTED', 'ReloadRejectedError');
/** The `probe` call failed on a new instance. */
export const ProbeFailedError = defineError('ERR_PROBE_FAILED', 'ProbeFailedError');

/** The plain-object form of an error, safe to `postMessage` between threads. */
export interface SerializedError {
  name: string;
  code: string;
  message: string;
  details?: ErrorDetails;
  stack?: string;
  cause?: SerializedError | { message: string; name?: string };
}

/** Turns any thrown value into a {@link SerializedError} (classes do not survive postMessage). */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof WasmtubeError) {
    const out: SerializedError = {
      name: error.name,
      code: error.code,
      message: error.message,
      details: error.details,
    };
    if (error.stack !== undefined) out.stack = error.stack;
    if (error.cause !== undefined) out.cause = serializeCause(error.cause);
    return out;
  }
  const plain = serializeCause(error);
  return { name: plain.name ?? 'Error', code: 'ERR_UNKNOWN', message: plain.message };
}

function serializeCause(cause: unknown): SerializedError | { message: string; name?: string } {
  if (cause instanceof WasmtubeError) return serializeError(cause);
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return { message: String(cause) };
}

/** Rebuilds the error class from {@link serializeError}'s output, so `instanceof` and `code` hold. */
export function deserializeError(data: SerializedError): WasmtubeError {
  const cls = classesByCode.get(data.code);
  const options: WasmtubeErrorOptions = {};
  if (data.details !== undefined) options.details = data.details;
  if (data.cause !== undefined) {
    options.cause =
      'code' in data.cause
        ? deserializeError(data.cause)
        : Object.assign(new Error(data.cause.message), { name: data.cause.name ?? 'Error' });
  }
  const error = cls
    ? new cls(data.message, options)
    : new WasmtubeError(data.code, data.message, options);
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}

/** Every stable error code registered by this package, for docs and exhaustive checks. */
export function errorCodes(): string[] {
  return [...classesByCode.keys()];
}
