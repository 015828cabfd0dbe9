import { deserializeError, QueueFullError, type WasmtubeError } from '../errors.js';
import { epochNow, SlotState } from '../protocol/call-slots.js';
import type { ThreadResponse } from '../protocol/messages.js';
import { revive } from './call-encoding.js';
import { callInfo, stopError } from './call-errors.js';
import { CallStats } from './call-stats.js';
import type { Dispatcher } from './dispatcher.js';
import { PendingCall, type CallSpec, type StopReason } from './pending-call.js';
import type { ThreadTable } from './thread-table.js';
import type { WorkerEvents } from './worker-types.js';

/** What the book tells its worker. */
export interface CallBookHooks {
  /** The supervisor's error once it gave up (calls failed for it reject with it). */
  failure(): WasmtubeError | undefined;
  /** Whether calls that lost their thread may run again ('running'), or only move ('stopping'). */
  state(): 'running' | 'stopping' | 'other';
  /** A call of `version` ended: `failed` for a trap, timeout or crash (rollback counts these). */
  onOutcome(version: number, failed: boolean): void;
  onTrap(event: WorkerEvents['trap'][0]): void;
  /** The first call came in after none were in flight. */
  onBusy(): void;
  /** No call is queued or running any more. */
  onDrain(): void;
}

/**
 * The worker's calls from admission to settlement: which are in flight, how each ends (its
 * thread's answer, a stop for a reason, its thread's death) and the counters of `stats()`.
 */
export class CallBook {
  readonly stats = new CallStats();
  readonly #inflight = new Set<PendingCall>();
  readonly #dispatch: Dispatcher;
  readonly #table: ThreadTable;
  readonly #maxQueue: number;
  readonly #hooks: CallBookHooks;
  /** Calls in flight that have a queue timeout. */
  #queueTimeouts = 0;

  constructor(
    collaborators: { dispatch: Dispatcher; table: ThreadTable },
    maxQueue: number,
    hooks: CallBookHooks,
  ) {
    this.#dispatch = collaborators.dispatch;
    this.#table = collaborators.table;
    this.#maxQueue = maxQueue;
    this.#hooks = hooks;
  }

  /** Calls queued or running. */
  get size(): number {
    return this.#inflight.size;
  }

  /** Whether any call in flight has a queue timeout to watch. */
  get watchingQueueTimeouts(): boolean {
    return this.#queueTimeouts > 0;
  }

  inflight(): IterableIterator<PendingCall> {
    return this.#inflight.values();
  }

  /** A call refused at admission: counted, and its promise rejects with `error`. */
  refuse(error: unknown): Promise<never> {
    this.stats.failedWith((error as WasmtubeError).code ?? 'ERR_UNKNOWN', 0);
    return Promise.reject(error);
  }

  /**
   * Queues an admitted call, or rejects it when the queue is full; the promise settles with its
   * result, or `{ result, info }` when asked.
   */
  add<T>(admitted: CallSpec): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        const waiting = this.#inflight.size - this.#table.threads;
        if (waiting >= this.#maxQueue) {
          throw new QueueFullError(
            `${waiting} calls are already waiting (maxQueue is ${this.#maxQueue}). Retry ` +
              `later, add threads or raise maxQueue.`,
            { details: { maxQueue: this.#maxQueue } },
          );
        }
        const call = new PendingCall(admitted, resolve as (value: unknown) => void, reject);
        if (call.signal) call.listenForAbort(() => this.stop(call, 'user'));
        this.#inflight.add(call);
        if (call.queueTimeoutMs > 0) this.#queueTimeouts++;
        if (this.#inflight.size === 1) this.#hooks.onBusy();
        this.#dispatch.submit(call);
      } catch (error) {
        this.stats.failedWith((error as WasmtubeError).code ?? 'ERR_UNKNOWN', 0);
        reject(error);
      }
    });
  }

  /** A thread answered a call. */
  answer(call: PendingCall, response: ThreadResponse): void {
    const { info } = response;
    this.#dispatch.observe(info.finishedAt - info.startedAt);
    if (response.ok) {
      this.#hooks.onOutcome(info.version, false);
      const result = revive(response.value, call.returns, call.resultBuffer);
      this.settle(call, undefined, call.withInfo ? { result, info: callInfo(call, info) } : result);
      return;
    }
    const error = deserializeError(response.error);
    const trapped = error.code === 'ERR_GUEST_TRAP' || error.code === 'ERR_MEMORY_LIMIT';
    this.#hooks.onOutcome(info.version, trapped);
    if (trapped) {
      this.stats.traps++;
      this.#hooks.onTrap({ fn: call.fn, error, threadId: info.threadId });
    }
    this.settle(call, error);
  }

  /**
   * The thread a call was posted to is gone, and its reply with it. A call the thread had not
   * started goes to another thread; one it was running fails (or, with `retry`, runs again on
   * a fresh thread). One it had finished (its thread died before the reply left) fails too:
   * running it again could repeat its effects.
   */
  lost(call: PendingCall, state: SlotState, exitCode: number): void {
    const reason = call.stopReason;
    const worker = this.#hooks.state();
    const started = state !== SlotState.Queued;
    if (!started && reason === undefined && worker !== 'other') {
      return this.#dispatch.submit(call, true);
    }
    const unfinished = state === SlotState.Running || state === SlotState.Killed;
    if (unfinished && reason === undefined && call.retriesLeft > 0 && worker === 'running') {
      call.retriesLeft--;
      return this.#dispatch.submit(call, true);
    }
    const cause = new Error(`worker thread exited with code: ${exitCode}`);
    this.settle(call, stopError(call, reason, started, cause, this.#hooks.failure()));
  }

  /**
   * Stops a call for `reason`. Queued here or not started on its thread: it is withdrawn and
   * settles now. Running: only terminating its thread stops a wasm call; it settles when the
   * thread's exit is seen. Already finished on its thread: nothing happens, its result is on its
   * way. True if it took effect.
   */
  stop(call: PendingCall, reason: StopReason): boolean {
    if (call.stopReason !== undefined || call.settled) return false;
    const link = call.link;
    if (link ? link.withdraw(call) : this.#dispatch.remove(call)) {
      call.stopReason = reason;
      this.settle(call, stopError(call, reason, false, undefined, this.#hooks.failure()));
      return true;
    }
    if (!link || reason === 'queue-timeout') return false; // running: let it be
    // Claimed atomically against the thread finishing it: a finished call's thread is left alone.
    if (!link.kill(call)) return false;
    call.stopReason = reason;
    this.#table.terminate(link, reason === 'timeout' ? 'timeout' : 'abort');
    return true;
  }

  /** Moves a call its thread has not started to the front of the queue (a pool swap). */
  requeue(call: PendingCall): void {
    if (call.link?.withdraw(call)) this.#dispatch.submit(call, true);
  }

  /** Ends calls the worker is letting go of (it stopped or failed): `started` on a thread or not. */
  abandon(calls: Iterable<PendingCall>, started: boolean): void {
    for (const call of calls) {
      const reason = call.stopReason ?? 'stopped';
      this.settle(call, stopError(call, reason, started, undefined, this.#hooks.failure()));
    }
  }

  /** Settles a call in flight, once, and counts it. */
  settle(call: PendingCall, error: unknown, value?: unknown): void {
    if (!this.#inflight.delete(call) || !call.settle(error, value)) return;
    const latency = epochNow() - call.createdAt;
    if (error === undefined) this.stats.succeeded(latency);
    else this.stats.failedWith((error as WasmtubeError).code ?? 'ERR_UNKNOWN', latency);
    if (call.queueTimeoutMs > 0) this.#queueTimeouts--;
    this.#table.retireIdle();
    if (this.#inflight.size === 0) this.#hooks.onDrain();
  }
}
