import { debuglog } from 'node:util';
import {
  GuestErrorError,
  GuestTrapError,
  InvalidArgumentError,
  MemoryLimitError,
  type WasmtubeError,
} from '../errors.js';
import {
  assemblyScriptAbort,
  formatAbort,
  type AssemblyScriptAbort,
} from './assemblyscript-abort.js';
import type { GuestMemory } from './guest-memory.js';

/**
 * The host's answer to a guest's `__host_call`: bytes (or a string, sent as UTF-8). Throwing
 * (or rejecting) hands the error message to the guest through `__host_error`.
 */
export type WapcHostCall = (
  binding: string,
  namespace: string,
  operation: string,
  payload: Buffer,
) => Uint8Array | string | Promise<Uint8Array | string>;

/** Options for waPC guests. */
export interface WapcOptions {
  /** Answers the guest's host calls. Default: every host call fails with "no host callback". */
  hostCall?: WapcHostCall;
  /** Receives the guest's `__console_log` lines. Default: `NODE_DEBUG=wasmtube` debug output. */
  logger?: (message: string) => void;
}

/** Synchronous form of the callbacks, as the instance calls them. */
export interface WapcHandlers {
  hostCall: (binding: string, namespace: string, operation: string, payload: Buffer) => unknown;
  log: (message: string) => void;
}

const debug = debuglog('wasmtube');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const GUEST_CALL = '__guest_call';
/** Start functions run after instantiation, in this order (as the wapc crate does). */
export const WAPC_STARTS = ['_start', 'wapc_init'] as const;

/** True for modules speaking waPC. */
export function isWapcModule(exports: readonly { name: string }[]): boolean {
  return exports.some((e) => e.name === GUEST_CALL);
}

/** Checks `hostCall` and `logger` options. */
export function checkWapcOptions(options: WapcOptions): void {
  if (options.hostCall !== undefined && typeof options.hostCall !== 'function') {
    throw new InvalidArgumentError(
      'options.hostCall must be a function (binding, namespace, operation, payload).',
    );
  }
  if (options.logger !== undefined && typeof options.logger !== 'function') {
    throw new InvalidArgumentError('options.logger must be a function receiving a string.');
  }
}

/** Turns options into the handlers an instance calls synchronously. */
export function wapcHandlers(options: WapcOptions): WapcHandlers {
  return {
    hostCall: (binding, namespace, operation, payload) => {
      if (!options.hostCall)
        throw new Error('no host callback is configured (the hostCall option)');
      const result = options.hostCall(binding, namespace, operation, payload);
      if (result instanceof Promise) {
        result.catch(() => undefined);
        throw new Error(
          'the host callback returned a promise; in-process it must be synchronous (use a Worker for async callbacks)',
        );
      }
      return result;
    },
    log: options.logger ?? ((message) => debug('waPC guest: %s', message)),
  };
}

/**
 * The host side of one waPC conversation at a time, for one instance: the nine `wapc` imports
 * and the state they share (the request, the guest's response or error, the host's).
 */
export class WapcSession {
  #memory: (() => GuestMemory) | undefined;
  readonly #handlers: WapcHandlers;
  #operation: Uint8Array = new Uint8Array();
  #message: Uint8Array = new Uint8Array();
  #guestResponse: Uint8Array | undefined;
  #guestError: string | undefined;
  #hostResponse: Uint8Array | undefined;
  #hostError: Uint8Array | undefined;
  #abort: AssemblyScriptAbort | undefined;

  constructor(handlers: WapcHandlers) {
    this.#handlers = handlers;
  }

  /** Where the instance's memory is, once it exists. */
  bind(memory: () => GuestMemory): void {
    this.#memory = memory;
  }

  get imports(): WebAssembly.Imports {
    const read = (ptr: number, len: number) => this.#memory!().read(ptr, len);
    const write = (ptr: number, bytes: Uint8Array) => {
      this.#memory!().checkRange(ptr, bytes.length, 'the waPC guest');
      this.#memory!().write(ptr, bytes);
    };
    return {
      wapc: {
        __guest_request: (opPtr: number, ptr: number) => {
          write(opPtr, this.#operation);
          write(ptr, this.#message);
        },
        __guest_response: (ptr: number, len: number) => {
          this.#guestResponse = read(ptr, len);
        },
        __guest_error: (ptr: number, len: number) => {
          this.#guestError = decoder.decode(read(ptr, len));
        },
        __host_call: (...args: number[]) => {
          const [bdPtr, bdLen, nsPtr, nsLen, opPtr, opLen, ptr, len] = args as [
            number,
            number,
            number,
            number,
            number,
            number,
            number,
            number,
          ];
          this.#hostResponse = undefined;
          this.#hostError = undefined;
          try {
            const result = this.#handlers.hostCall(
              decoder.decode(read(bdPtr, bdLen)),
              decoder.decode(read(nsPtr, nsLen)),
              decoder.decode(read(opPtr, opLen)),
              Buffer.from(read(ptr, len)),
            );
            this.#hostResponse =
              typeof result === 'string' ? encoder.encode(result) : (result as Uint8Array);
            if (!(this.#hostResponse instanceof Uint8Array)) {
              throw new TypeError('the host callback must return bytes or a string');
            }
            return 1;
          } catch (error) {
            this.#hostResponse = undefined;
            this.#hostError = encoder.encode((error as Error)?.message ?? String(error));
            return 0;
          }
        },
        __host_response_len: () => this.#hostResponse?.length ?? 0,
        __host_response: (ptr: number) => {
          if (this.#hostResponse) write(ptr, this.#hostResponse);
        },
        __host_error_len: () => this.#hostError?.length ?? 0,
        __host_error: (ptr: number) => {
          if (this.#hostError) write(ptr, this.#hostError);
        },
        __console_log: (ptr: number, len: number) => {
          this.#handlers.log(decoder.decode(read(ptr, len)));
        },
      },
    };
  }

  /**
   * `env.abort(message, fileName, line, column)` as AssemblyScript guests import it (those built
   * without a `--use abort=` handler): records the guest's message and ends the call.
   */
  get abortImport(): (message: number, fileName: number, line: number, column: number) => never {
    return assemblyScriptAbort(
      () => this.#memory?.(),
      (abort) => (this.#abort = abort),
    );
  }

  /** Runs one conversation: `__guest_call(op_len, msg_len)`, then the response or the error. */
  call(
    guestCall: (opLen: number, msgLen: number) => unknown,
    operation: string,
    payload: Uint8Array,
  ): Uint8Array {
    this.#operation = encoder.encode(operation);
    this.#message = payload;
    this.#guestResponse = undefined;
    this.#guestError = undefined;
    this.#hostResponse = undefined;
    this.#hostError = undefined;
    this.#abort = undefined;
    let ok: number;
    try {
      ok = guestCall(this.#operation.length, this.#message.length) as number;
    } catch (error) {
      this.#message = new Uint8Array();
      throw this.#trapped(operation, error);
    }
    const response = this.#guestResponse;
    const failure = this.#guestError;
    this.#message = new Uint8Array();
    if (ok !== 0 && response) return response;
    const message =
      failure ?? (ok === 0 ? 'no error message set for call failure' : 'no response set');
    throw new GuestErrorError(`waPC operation "${operation}" failed: ${message}`, {
      details: { operation, guestMessage: message },
    });
  }

  /**
   * A guest that traps after reporting an error (AssemblyScript's `throw` with `@wapc/as-guest`:
   * `__guest_error`, then `unreachable`; or its imported `env.abort`) failed with that message:
   * the call fails as a waPC guest error carrying it, and the trap is the cause. A trap without a
   * message stays `ERR_GUEST_TRAP`; a guest that ran out of memory stays `ERR_MEMORY_LIMIT`, with
   * the guest's message added.
   */
  #trapped(operation: string, error: unknown): unknown {
    const abort = this.#abort;
    const guestMessage = this.#guestError ?? (abort && formatAbort(abort));
    if (guestMessage === undefined) return error;
    const trap = error as WasmtubeError;
    const details = {
      operation,
      guestMessage,
      ...(abort && { abort }),
      trap: trap.details?.reason ?? (error as Error)?.message,
    };
    if (error instanceof MemoryLimitError) {
      return new MemoryLimitError(`${trap.message} The guest reported: ${guestMessage}`, {
        cause: trap.cause,
        details: { ...trap.details, guestMessage, ...(abort && { abort }) },
      });
    }
    if (!(error instanceof GuestTrapError)) return error;
    return new GuestErrorError(
      `waPC operation "${operation}" failed: ${guestMessage} (the guest then trapped, so its ` +
        `instance was reset and its state starts over).`,
      { cause: error, details },
    );
  }
}
