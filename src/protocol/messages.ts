/**
 * The messages between the supervisor (main thread) and a worker thread, typed once and imported
 * on both sides.
 */
import type { CompiledModule } from '../bridge/compiled-module.js';
import type { MessagePort } from 'node:worker_threads';
import type { Abi } from '../bridge/conventions.js';
import type { HostSignatures } from '../bridge/host-functions.js';
import type { TypedCallOptions } from '../bridge/typed-call.js';
import type { WasiOptions } from '../bridge/wasi.js';
import type { SerializedError } from '../errors.js';
import type { CallInput, ResultKind } from '../types.js';

/** `workerData` of every thread of one pool generation. */
export interface ThreadData {
  compiled: CompiledModule;
  /** Module version this generation serves (0 at start, +1 per reload). */
  version: number;
  resultHeadroomBytes: number | undefined;
  /** See `WasmtubeOptions.maxImagePixels`. */
  maxImagePixels: number | undefined;
  /** File URL of a module whose default export returns the guest's imports; evaluated per thread. */
  importsModule: string | undefined;
  recycle: RecyclePolicy;
  /** A call that must succeed on every new instance before the thread reports ready. */
  probe: { fn: string; input: CallInput } | undefined;
  wasi: WasiOptions | undefined;
  abi: Abi | undefined;
  /** File URL of a module exporting `hostFunctions` (or a default) to run in every thread. */
  hostModule: string | undefined;
  /** Types of the host functions that run on the main thread, reached through a host channel. */
  remoteHost: HostSignatures | undefined;
  /** waPC callbacks (hostCall, logger) run on the main thread. */
  remoteWapc: boolean;
  /** Slots in the thread's call channel: how many calls may be posted to it at once. */
  slots: number;
  /** How long a thread polls for the next call before it sleeps, in microseconds. */
  spinUs: number;
}

/** When a thread replaces its instance with a fresh one, between calls. */
export interface RecyclePolicy {
  maxCallsPerInstance: number;
  maxInstanceAgeMs: number;
  /** Reset when the guest's memory is above this many bytes after a call. */
  maxMemoryBytes: number;
}

/** One call, sent to a thread: a `callFunction` (input) or a typed `call` (args). */
export interface ThreadTask {
  fn: string;
  input: CallInput | undefined;
  returns: ResultKind | undefined;
  typed: { args: unknown[]; options: TypedCallOptions } | undefined;
  /** Present for WASI command runs (`_start` on a fresh instance). */
  run: { args?: string[]; stdin?: string | Uint8Array } | undefined;
  /** The call's timeout (0: none); bounds how long its host calls may wait. */
  timeoutMs: number;
  /** The caller's result buffer when it is shared memory: the thread copies the result there. */
  resultBuffer?: Uint8Array | undefined;
}

/** A call posted on a thread's call channel, in the slot it occupies. */
export interface CallMessage {
  slot: number;
  task: ThreadTask;
}

/**
 * The thread's answer on its call channel; `skipped` for a call withdrawn before it started.
 * `spare` is the call's input buffer, given back for reuse when the result did not take it.
 */
export type CallReply = (
  { slot: number; response: ThreadResponse } | { slot: number; skipped: true }
) & { spare?: ArrayBuffer };

/**
 * Reload steps on a call channel, taken by the thread between calls: instantiate (and probe) a
 * new version next to the serving one, then switch to it or drop it.
 */
export type ControlMessage =
  | { control: 'prepare'; id: number; compiled: CompiledModule; version: number }
  | { control: 'commit' | 'abort'; id: number };

/** A thread's answer to `prepare`: the error when the new version did not instantiate. */
export interface ControlReply {
  control: 'prepared';
  id: number;
  error?: SerializedError;
}

/** Facts about a call, measured in its thread. */
export interface ThreadCallInfo {
  threadId: number;
  version: number;
  /** Instance generation in the thread: 1 for its first instance, +1 per reset. */
  instance: number;
  startedAt: number;
  finishedAt: number;
  /** Captured WASI output of the call (`wasi.stdout`/`stderr: 'capture'`). */
  stdout?: string;
  stderr?: string;
}

/** A thread's answer to a {@link ThreadTask}. Errors are values: classes do not survive cloning. */
export type ThreadResponse =
  | { ok: true; value: unknown; info: ThreadCallInfo }
  | { ok: false; error: SerializedError; info: ThreadCallInfo };

/** Posted by a thread through `parentPort` once its instance exists, or when creating it failed. */
export type ThreadStatusMessage =
  | { wasmtube: 'ready'; threadId: number; version: number }
  | { wasmtube: 'start-failed'; threadId: number; version: number; error: SerializedError }
  | { wasmtube: 'host-channel'; threadId: number; port: MessagePort; buffer: SharedArrayBuffer }
  | {
      wasmtube: 'call-channel';
      threadId: number;
      /** The module version the thread serves (that of the pool when the thread started). */
      version: number;
      port: MessagePort;
      slots: SharedArrayBuffer;
    };

export const isThreadStatus = (message: unknown): message is ThreadStatusMessage =>
  typeof message === 'object' && message !== null && 'wasmtube' in message;
