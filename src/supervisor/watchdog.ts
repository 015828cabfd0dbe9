import { epochNow, SlotState } from '../protocol/call-slots.js';
import type { CallBook } from './call-book.js';
import type { Dispatcher } from './dispatcher.js';
import type { PendingCall } from './pending-call.js';
import type { ThreadLink } from './thread-link.js';
import type { ThreadTable } from './thread-table.js';

/** How often in-flight calls are checked against their timeouts. */
const WATCHDOG_MS = 10;

/** What the watchdog tells its worker. */
export interface WatchdogHooks {
  /** A running call passed its timeoutMs and its thread is being terminated. */
  onTimeout(call: PendingCall, link: ThreadLink<PendingCall>): void;
  /** The pool stayed short of threads longer than a start may take: replace it. */
  onThreadsFailed(): void;
  /** Whether the worker serves (only then are missing threads its problem). */
  serving(): boolean;
}

/**
 * While calls are in flight, looks every 10 ms at what no event reports: running calls past
 * their timeout, calls waiting past their queue timeout, threads idle beside a neighbour's long
 * call (the dispatcher's tick), and a pool that stays short of threads.
 */
export class Watchdog {
  readonly #table: ThreadTable;
  readonly #calls: CallBook;
  readonly #dispatch: Dispatcher;
  readonly #startTimeoutMs: number;
  readonly #hooks: WatchdogHooks;
  #timer: NodeJS.Timeout | undefined;
  /** No call in flight since stop(): the next tick ends the timer (see stop()). */
  #idle = false;
  #degradedSince: number | undefined;

  constructor(
    parts: { table: ThreadTable; calls: CallBook; dispatch: Dispatcher },
    startTimeoutMs: number,
    hooks: WatchdogHooks,
  ) {
    this.#table = parts.table;
    this.#calls = parts.calls;
    this.#dispatch = parts.dispatch;
    this.#startTimeoutMs = startTimeoutMs;
    this.#hooks = hooks;
  }

  start(): void {
    this.#idle = false;
    this.#timer ??= setInterval(() => this.#tick(), WATCHDOG_MS).unref();
  }

  /**
   * No call is in flight: the timer ends at its next tick, unless a call comes first. Sporadic
   * calls then find it running instead of arming and clearing a timer each.
   */
  stop(): void {
    this.#idle = true;
  }

  #tick(): void {
    if (this.#idle) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = epochNow();
    for (const link of this.#table.links()) {
      for (const call of link.calls()) {
        if (call.stopReason !== undefined) continue;
        const state = link.slots.state(call.slot);
        if (state === SlotState.Queued) this.#checkQueueTimeout(call, now);
        else if (
          state === SlotState.Running &&
          call.timeoutMs > 0 &&
          now - link.slots.startedAt(call.slot) > call.timeoutMs &&
          this.#calls.stop(call, 'timeout')
        ) {
          this.#hooks.onTimeout(call, link);
        }
      }
    }
    this.#dispatch.tick(now);
    // Only calls with a queue timeout need looking at in the (possibly long) queue.
    if (this.#calls.watchingQueueTimeouts) {
      for (const call of [...this.#dispatch.waiting]) this.#checkQueueTimeout(call, now);
    }
    this.#checkThreads(now);
  }

  #checkQueueTimeout(call: PendingCall, now: number): void {
    if (call.queueTimeoutMs > 0 && now - call.createdAt > call.queueTimeoutMs) {
      this.#calls.stop(call, 'queue-timeout');
    }
  }

  /**
   * piscina replaces a thread that dies, except one that dies while starting: then it stops
   * replacing threads at all. Seeing the pool short of threads for longer than a start may take,
   * the worker replaces the whole pool.
   */
  #checkThreads(now: number): void {
    const pool = this.#table.pool;
    pool.trackThreads();
    if (!this.#hooks.serving() || pool.threadsAlive >= pool.threads) {
      this.#degradedSince = undefined;
      return;
    }
    this.#degradedSince ??= now;
    if (now - this.#degradedSince < this.#startTimeoutMs) return;
    this.#degradedSince = undefined;
    this.#hooks.onThreadsFailed();
  }
}
