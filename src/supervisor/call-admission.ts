/** Turns a Worker call's arguments into a {@link CallSpec}, or throws the typed error. */
import { checkResultBuffer } from '../bridge/payload.js';
import { checkName } from '../bridge/call-arguments.js';
import { InvalidArgumentError } from '../errors.js';
import { abortError } from '../util/serial-queue.js';
import type { ThreadTask } from '../protocol/messages.js';
import type { CallInput } from '../types.js';
import { checkWorkerCall, encodeInput } from './call-encoding.js';
import type { CallSpec } from './pending-call.js';
import { checkMs } from './worker-options.js';
import type { WorkerCallOptions } from './worker-types.js';

/**
 * The options of a call made without any (`worker.callFunction(fn, input)`): shared, frozen, and
 * recognised by {@link callSpec}, which then has no option to check.
 */
export const NO_OPTIONS: WorkerCallOptions = Object.freeze({});

/** What a call asks a thread to do. */
export type CallRequest =
  | { input: CallInput }
  | { typed: NonNullable<ThreadTask['typed']> }
  | { run: NonNullable<ThreadTask['run']> };

/**
 * Validates a call and encodes its input on the calling thread (bad input never reaches a
 * thread): `defaults` are the worker's timeouts.
 * @throws `ERR_INVALID_ARGUMENT`, `ERR_INPUT_ENCODE`, `ERR_ABORTED` (signal already aborted)
 */
export function callSpec(
  fn: string,
  request: CallRequest,
  options: WorkerCallOptions,
  defaults: { timeoutMs: number; queueTimeoutMs: number },
  withInfo: boolean,
): CallSpec {
  checkName(fn);
  // The common call (data in, no options) skips the option checks: the defaults were checked
  // when the worker started. Sporadic calls pay each µs here ~4 times over (cold caches).
  if (options === NO_OPTIONS && 'input' in request)
    return plainCall(fn, request.input, defaults, withInfo);
  checkWorkerCall(request, options);
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
  const queueTimeoutMs = options.queueTimeoutMs ?? defaults.queueTimeoutMs;
  const retries = options.retry ?? 0;
  checkMs('timeoutMs', timeoutMs);
  checkMs('queueTimeoutMs', queueTimeoutMs);
  if (!Number.isInteger(retries) || retries < 0) {
    throw new InvalidArgumentError(`options.retry must be a non-negative integer, got ${retries}.`);
  }
  const signal = options.signal;
  if (signal?.aborted) throw abortError(signal);
  const payload = 'input' in request ? encodeInput(request.input, options.returns) : undefined;
  const resultBuffer = checkResultBuffer(options.resultBuffer, payload?.returns);
  if ('typed' in request && !Array.isArray(request.typed.args)) {
    throw new InvalidArgumentError('call() takes its arguments as an array.');
  }
  return {
    fn,
    input: payload?.input,
    returns: payload?.returns,
    ownsInput: payload?.owned ?? false,
    resultBuffer,
    typed: 'typed' in request ? request.typed : undefined,
    run: 'run' in request ? request.run : undefined,
    timeoutMs,
    queueTimeoutMs,
    retries,
    signal,
    withInfo,
  };
}

/** {@link callSpec} of a `callFunction` without options. */
function plainCall(
  fn: string,
  input: CallInput,
  defaults: { timeoutMs: number; queueTimeoutMs: number },
  withInfo: boolean,
): CallSpec {
  const payload = encodeInput(input, undefined);
  return {
    fn,
    input: payload.input,
    returns: payload.returns,
    ownsInput: payload.owned,
    resultBuffer: undefined,
    typed: undefined,
    run: undefined,
    timeoutMs: defaults.timeoutMs,
    queueTimeoutMs: defaults.queueTimeoutMs,
    retries: 0,
    signal: undefined,
    withInfo,
  };
}
