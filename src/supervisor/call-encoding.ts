/** What crosses to a thread for a call, and back. */
import { asBuffer, isShared } from '../bridge/buffers.js';
import {
  BRIDGE_CALL_CHECKS,
  checkCallOptions,
  checkRunOptions,
  checkTypedCall,
  isFunctionName,
} from '../bridge/call-arguments.js';
import {
  checkOptionsObject,
  describeValue,
  integerFrom,
  milliseconds,
  type OptionCheck,
} from '../bridge/check-options.js';
import { encodeData, inputKind } from '../bridge/payload.js';
import { InvalidArgumentError } from '../errors.js';
import type {
  BytesInput,
  CallInput,
  DataInput,
  ImageInput,
  ResultKind,
  RgbImage,
} from '../types.js';
import type { ThreadData, ThreadTask } from '../protocol/messages.js';
import { ownsWholeBuffer } from '../protocol/transfer.js';
import { stagingBuffers } from './staging-buffers.js';

/** Inputs the Worker encoded itself up to this size are cloned with the task, not moved. */
const CLONED_INPUT_MAX_BYTES = 4096;
const NO_TRANSFER: ArrayBuffer[] = [];

/** The parts of a pending call a thread needs. */
export type TaskSource = Omit<ThreadTask, 'input'> & {
  input: CallInput | undefined;
  /** The input bytes are the call's own JSON encoding (no one else holds them). */
  ownsInput: boolean;
};

/** The task for a thread, with the bytes to move. */
export function toTask(call: TaskSource): { task: ThreadTask; transfer: ArrayBuffer[] } {
  const input = (call.input ?? {}) as Partial<ImageInput & BytesInput>;
  const task: ThreadTask = {
    fn: call.fn,
    input: call.input,
    returns: call.returns,
    typed: call.typed,
    run: call.run,
    timeoutMs: call.timeoutMs,
  };
  // Shared memory crosses as it is: the thread writes the result straight into the caller's.
  if (isShared(call.resultBuffer)) task.resultBuffer = call.resultBuffer;
  // Copy once into a buffer of our own and move it: cheaper than a structured clone of the
  // caller's buffer, and the caller keeps theirs. The thread copies a bytes or RGB result into
  // it, or gives it back for the next call. A retry makes a fresh copy.
  const bytes = input.image ?? input.bytes;
  // Shared input is read in place by the thread: no copy (the caller keeps it unchanged until
  // the call settles).
  if (!bytes || isShared(bytes)) return { task, transfer: [] };
  // A small input the call encoded itself crosses in the message's clone: cheaper than a copy,
  // a moved buffer and the staging bookkeeping, and the call keeps it for a retry. Only its own:
  // a caller's buffer passed to two calls of one batch would arrive as ONE buffer, which the
  // thread takes as both calls' staging buffer (and moves back with the first result).
  if (call.ownsInput && bytes.byteLength <= CLONED_INPUT_MAX_BYTES && ownsWholeBuffer(bytes)) {
    return { task, transfer: NO_TRANSFER };
  }
  const copy = stagingBuffers.copyOf(bytes);
  task.input = input.image ? { ...(call.input as ImageInput), image: copy } : { bytes: copy };
  return { task, transfer: [copy.buffer as ArrayBuffer] };
}

/**
 * Structured clone turns Buffers into Uint8Arrays; give callers the Buffers the bridge returns.
 * With a result buffer that fits, the result is copied there and the thread's buffer is kept
 * for the next call's input.
 */
export function revive(
  value: unknown,
  returns: ResultKind | undefined,
  resultBuffer?: Uint8Array,
): unknown {
  if (value instanceof Uint8Array) return asBuffer(into(value, resultBuffer));
  if (returns === 'rgb') {
    const image = value as RgbImage;
    return { ...image, pixels: asBuffer(into(image.pixels, resultBuffer)) };
  }
  return value;
}

function into(bytes: Uint8Array, target: Uint8Array | undefined): Uint8Array {
  if (!target || target.length < bytes.length) return bytes;
  // A shared result buffer was written by the thread already: only shared memory of the call's
  // own result buffer comes back (see ThreadTask.resultBuffer).
  if (isShared(bytes) && isShared(target) && bytes.byteOffset === target.byteOffset) {
    return target.subarray(0, bytes.length);
  }
  const view = target.subarray(0, bytes.length);
  view.set(bytes);
  if (bytes.buffer instanceof ArrayBuffer) stagingBuffers.give(bytes.buffer);
  return view;
}

/** Per-call options of a Worker; `returns` is checked with the input or the typed call. */
const WORKER_CALL_CHECKS: Readonly<Record<string, OptionCheck>> = {
  ...BRIDGE_CALL_CHECKS,
  timeoutMs: milliseconds,
  queueTimeoutMs: milliseconds,
  retry: integerFrom(0),
};

/**
 * Validates a Worker call's options and, for typed calls and command runs, its arguments, in the
 * caller's thread before the call is queued: a value that cannot be cloned must not reach a
 * thread. The input of `callFunction` is checked (and encoded) by {@link encodeInput}.
 */
export function checkWorkerCall(request: object, options: unknown): void {
  if ('typed' in request) {
    const { args, options: typed } = request.typed as { args: unknown; options: unknown };
    checkTypedCall(args, typed, 'worker.call', {});
  }
  if ('run' in request) checkRunOptions(request.run, 'worker.run', {});
  checkCallOptions(options, 'a Worker call', WORKER_CALL_CHECKS);
}

/**
 * `worker.call` and `worker.run` take their own options apart before queueing; this rejects
 * options that are not an object first, as the call's promise.
 */
export function rejectNonObject(options: unknown, method: string): Promise<never> | undefined {
  try {
    checkOptionsObject(options, `The options of ${method}`);
    return undefined;
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Validates a call's input in the caller's thread and encodes structured data there: a value
 * that cannot be encoded fails now, in the caller's stack, and the thread receives bytes it can
 * take without cloning an object graph.
 */
export function encodeInput(
  input: CallInput,
  returns: ResultKind | undefined,
): { input: CallInput; returns: ResultKind; owned: boolean } {
  const kind = inputKind(input, returns);
  if (kind === 'data') {
    const encoded = encodeData(input as DataInput, returns);
    // JSON text is freshly encoded per call; msgpackr may hand out views of a buffer it reuses.
    const owned = (input as DataInput).codec !== 'msgpack';
    return { input: { bytes: encoded.bytes }, returns: encoded.returns, owned };
  }
  if (kind === 'bytes') {
    return {
      input: { bytes: (input as BytesInput).bytes },
      returns: returns ?? 'bytes',
      owned: false,
    };
  }
  // Only the fields a thread reads cross to it: anything else might not be cloneable.
  const { image, width, height } = input as ImageInput;
  const sized = width === undefined ? { image } : { image, width, height };
  return { input: sized, returns: returns ?? 'json', owned: false };
}

/** Validates the probe once, and encodes its data here, like a call's. */
export function toProbe(probe: { fn: string; input?: CallInput }): ThreadData['probe'] {
  if (!isFunctionName(probe?.fn)) {
    throw new InvalidArgumentError(
      `options.probe must be { fn, input? } with a function name, got ${describeValue(probe)}.`,
    );
  }
  return { fn: probe.fn, input: encodeInput(probe.input ?? { data: null }, undefined).input };
}
