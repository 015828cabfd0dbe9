import { epochNow, SlotState } from '../protocol/call-slots.js';
import { toTask } from './call-encoding.js';
import { DispatchWidth } from './dispatch-width.js';
import type { PendingCall } from './pending-call.js';
import type { ThreadLink } from './thread-link.js';
import type { ThreadTable } from './thread-table.js';

/** An idle thread takes calls waiting behind a call that has run longer than this. */
const STEAL_AFTER_MS = 2;
/**
 * While tiny calls go to fewer threads (DispatchWidth), the others take calls once one of those
 * has run a single call this long: a thread the OS preempted for a moment is not stuck.
 */
const WIDEN_AFTER_MS = 10;

/** The call has started (or finished) on its thread. */
export function started(call: PendingCall): boolean {
  if (!call.link) return false;
  const state = call.link.slots.state(call.slot);
  return state === SlotState.Running || state === SlotState.Done || state === SlotState.Killed;
}

/**
 * Which thread runs a call: calls wait here, oldest first, until a serving thread has room; they
 * go to the least loaded thread within the dispatch width (tiny calls to as many threads as
 * there are cores beside the main thread), and an idle thread takes calls waiting behind a call
 * that has been running a while on another thread.
 */
export class Dispatcher {
  readonly #table: ThreadTable;
  readonly #width: DispatchWidth;
  readonly #queue: PendingCall[] = [];

  constructor(table: ThreadTable) {
    this.#table = table;
    this.#width = new DispatchWidth(table.threads);
  }

  /** Calls waiting here for a thread. */
  get waiting(): readonly PendingCall[] {
    return this.#queue;
  }

  /** Queues a call (at the front for a call that was moved) and posts what threads take. */
  submit(call: PendingCall, front = false): void {
    if (front) this.#queue.unshift(call);
    else this.#queue.push(call);
    this.pump();
  }

  /** Takes a call out of the queue; false if it is not waiting here. */
  remove(call: PendingCall): boolean {
    const index = this.#queue.indexOf(call);
    if (index === -1) return false;
    this.#queue.splice(index, 1);
    return true;
  }

  /** Empties the queue, returning what waited. */
  takeAll(): PendingCall[] {
    return this.#queue.splice(0);
  }

  /** Learns how long calls run (it decides the dispatch width). */
  observe(runMs: number): void {
    this.#width.observe(runMs);
  }

  /**
   * Posts queued calls to the least loaded threads of the current pool that have room, and grows
   * the pool for the calls left waiting. Growth can make threads already open serve (spares, or
   * threads a new pool started with): those take the calls at once, as no event will come.
   */
  pump(): void {
    for (;;) {
      while (this.#queue.length > 0) {
        const link = this.#leastLoaded();
        if (!link) break;
        const call = this.#queue.shift()!;
        const { task, transfer } = toTask(call);
        link.post(call, task, transfer);
      }
      if (this.#table.size >= Math.min(this.#width.width, this.#table.threads)) return;
      const size = this.#table.size;
      this.#grow();
      if (this.#table.size === size || this.#queue.length === 0) return;
    }
  }

  /** Grows the pool by the calls that wait, here or pipelined behind another call on a thread. */
  #grow(): void {
    let waiting = this.#queue.length;
    for (const link of this.#table.active()) waiting += Math.max(0, link.load - 1);
    if (waiting > 0) this.#table.grow(waiting);
  }

  /**
   * A thread that ran out of work takes a call another thread has not started yet, so one slow
   * call does not hold up the calls pipelined behind it while a thread is idle.
   */
  rebalance(idle: ThreadLink<PendingCall>): void {
    if (this.#queue.length > 0 || idle.load > 0) return;
    if (!this.#anyPipelined(idle)) return; // nothing to take (and no list to build per reply)
    const index = [...this.#table.active()].indexOf(idle);
    if (index < 0) return;
    // A thread outside the dispatch width steals only from a thread stuck on a call: one
    // preempted for a moment on a busy machine is no reason to wake it.
    const after = index < this.#width.width ? STEAL_AFTER_MS : WIDEN_AFTER_MS;
    // Take the calls waiting behind another thread's call that has been running a while, oldest
    // first. Behind short calls they are better left where they are: moving costs a message.
    const waiting: PendingCall[] = [];
    const now = epochNow();
    for (const link of this.#table.links()) {
      if (link === idle || link.load < 2 || !this.#table.busyFor(link, now, after)) continue;
      for (const call of link.calls()) if (!started(call)) waiting.push(call);
    }
    waiting.sort((x, y) => x.createdAt - y.createdAt);
    for (const call of waiting) {
      if (idle.capacity === 0) break;
      if (!call.link?.withdraw(call)) continue;
      const { task, transfer } = toTask(call);
      idle.post(call, task, transfer);
    }
  }

  /**
   * The watchdog's look at the threads: idle ones take calls stuck behind a neighbour's long
   * call, and while calls go to fewer threads, one stuck on a long call lets the others take
   * calls again.
   */
  tick(now: number): void {
    for (const link of this.#table.active()) if (link.load === 0) this.rebalance(link);
    const narrow = this.#width.narrow;
    if (narrow >= this.#table.threads) return;
    let stuck = false;
    let index = 0;
    for (const link of this.#table.active()) {
      if (index++ === narrow) break;
      if (this.#table.busyFor(link, now, WIDEN_AFTER_MS)) stuck = true;
    }
    if (this.#width.setStuck(stuck)) this.pump();
  }

  /** Whether a thread other than `idle` has calls waiting behind the one it runs. */
  #anyPipelined(idle: ThreadLink<PendingCall>): boolean {
    for (const link of this.#table.links()) if (link !== idle && link.load >= 2) return true;
    return false;
  }

  /** The least loaded thread with room, among the threads calls go to now (DispatchWidth). */
  #leastLoaded(): ThreadLink<PendingCall> | undefined {
    let best: ThreadLink<PendingCall> | undefined;
    let width = this.#width.width;
    for (const link of this.#table.active()) {
      if (width-- === 0) break;
      if (link.capacity === 0) continue;
      if (!best || link.load < best.load) best = link;
    }
    return best;
  }
}
