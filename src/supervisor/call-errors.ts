/** What a caller is told when a call ends without its thread's answer, and the call's info. */
import {
  AbortError,
  CallTimeoutError,
  QueueTimeoutError,
  WorkerExitedError,
  WorkerStoppedError,
  type WasmtubeError,
} from '../errors.js';
import type { ThreadResponse } from '../protocol/messages.js';
import type { PendingCall, StopReason } from './pending-call.js';
import type { CallInfo } from './worker-types.js';

/** The error for a call made to a worker that is not running (stopping or stopped). */
export function notTakingCalls(name: string | undefined, state: string): WasmtubeError {
  const named = name ? ` "${name}"` : '';
  return new WorkerStoppedError(`The worker${named} is ${state} and takes no calls.`);
}

/**
 * The error for a call stopped for `reason` (undefined: its thread died under it). `started`:
 * whether its thread had started it; `failure`: the supervisor's error once it gave up.
 */
export function stopError(
  call: PendingCall,
  reason: StopReason | undefined,
  started: boolean,
  cause: unknown,
  failure: WasmtubeError | undefined,
): WasmtubeError {
  const details = { fn: call.fn, threadId: call.threadId || undefined };
  switch (reason) {
    case 'timeout':
      return new CallTimeoutError(
        `${call.fn} ran longer than ${call.timeoutMs} ms, so its thread was terminated and ` +
          `replaced. Raise timeoutMs if the work is legitimately slow.`,
        { details: { ...details, timeoutMs: call.timeoutMs } },
      );
    case 'queue-timeout':
      return new QueueTimeoutError(
        `${call.fn} waited longer than ${call.queueTimeoutMs} ms for a thread and was not run. ` +
          `Add threads, lower the load, or raise queueTimeoutMs.`,
        { details: { ...details, queueTimeoutMs: call.queueTimeoutMs } },
      );
    case 'user':
      return new AbortError(
        started
          ? `${call.fn} was aborted while running; its thread was terminated and replaced.`
          : `${call.fn} was aborted before it ran.`,
        { cause: call.signal?.reason, details },
      );
    case 'failed':
      return failure!;
    case 'stopped':
      return new WorkerStoppedError(
        `The worker stopped before ${call.fn} finished (stop's timeoutMs ran out).`,
        { details },
      );
    default:
      return new WorkerExitedError(
        `The thread running ${call.fn} died (${(cause as Error)?.message ?? String(cause)}); ` +
          `it was replaced. Pass retry: n for idempotent calls to run them again.`,
        { cause, details },
      );
  }
}

/** Which version and thread served a call, and how long it waited and ran. */
export function callInfo(call: PendingCall, info: ThreadResponse['info']): CallInfo {
  const result: CallInfo = {
    version: info.version,
    threadId: info.threadId,
    queuedMs: Math.max(0, info.startedAt - call.createdAt),
    runMs: info.finishedAt - info.startedAt,
    startedAt: info.startedAt,
    finishedAt: info.finishedAt,
    attempts: call.attempts,
  };
  if (info.stdout !== undefined) result.stdout = info.stdout;
  if (info.stderr !== undefined) result.stderr = info.stderr;
  return result;
}
