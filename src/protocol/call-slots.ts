/**
 * Call slots: a few bytes of shared memory per call in flight on a thread, through which the
 * thread tells the main thread — without a message — that a call has started and when, and the
 * main thread withdraws a call the thread has not started yet. Timeouts count from the start
 * (running time, not queue time), and a call that never started can safely go to another thread.
 *
 * Layout per slot (16 bytes): Int32 state; Float64 start time (ms since the epoch) at byte 8.
 * After the slots, 16 bytes more: an Int32 the main thread raises when it posted a control
 * message (a reload step), so a thread with calls waiting reads its port before the next call.
 */

export const enum SlotState {
  Free = 0,
  Queued = 1,
  Running = 2,
  Done = 3,
  Cancelled = 4,
  /** The main thread claimed a running call to terminate its thread (timeout, abort, stop). */
  Killed = 5,
}

const SLOT_BYTES = 16;

/** The slots of one thread's call channel, as seen from either side. */
export class CallSlots {
  readonly buffer: SharedArrayBuffer;
  readonly count: number;
  readonly #ints: Int32Array;
  readonly #floats: Float64Array;

  constructor(bufferOrCount: SharedArrayBuffer | number) {
    this.buffer =
      typeof bufferOrCount === 'number'
        ? new SharedArrayBuffer((bufferOrCount + 1) * SLOT_BYTES)
        : bufferOrCount;
    this.count = this.buffer.byteLength / SLOT_BYTES - 1;
    this.#ints = new Int32Array(this.buffer);
    this.#floats = new Float64Array(this.buffer);
  }

  state(slot: number): SlotState {
    return Atomics.load(this.#ints, slot * 4);
  }

  /** Start time in ms since the epoch; meaningful once the slot is Running or Done. */
  startedAt(slot: number): number {
    return this.#floats[slot * 2 + 1]!;
  }

  /** Main side: a call is about to be posted to the thread in this slot. */
  queue(slot: number): void {
    Atomics.store(this.#ints, slot * 4, SlotState.Queued);
  }

  /** Thread side: claims a queued call; false if the main thread withdrew it first. */
  start(slot: number, now: number): boolean {
    this.#floats[slot * 2 + 1] = now; // written before the exchange publishes it
    return this.#move(slot, SlotState.Queued, SlotState.Running);
  }

  /**
   * Thread side: the call finished. False if the main thread claimed it to terminate this
   * thread first: the thread must then start nothing else, as the termination is on its way.
   */
  finish(slot: number): boolean {
    return this.#move(slot, SlotState.Running, SlotState.Done);
  }

  /**
   * Main side: claims a running call so its thread can be terminated; false if the call
   * already finished (its reply is on its way, and terminating would kill the next call).
   */
  kill(slot: number): boolean {
    return this.#move(slot, SlotState.Running, SlotState.Killed);
  }

  /** Main side: withdraws a call the thread has not started; false if it already started. */
  cancel(slot: number): boolean {
    return this.#move(slot, SlotState.Queued, SlotState.Cancelled);
  }

  /**
   * Moves a slot from `from` to `to` in one atomic step; false if it was not in `from` (the
   * other side moved it first). Every race between the two sides is settled here.
   */
  #move(slot: number, from: SlotState, to: SlotState): boolean {
    return Atomics.compareExchange(this.#ints, slot * 4, from, to) === from;
  }

  /** Main side: the slot can be reused. */
  free(slot: number): void {
    Atomics.store(this.#ints, slot * 4, SlotState.Free);
  }

  /** Main side, after posting a control message: the thread should read its port. */
  raiseControl(): void {
    Atomics.store(this.#ints, this.count * 4, 1);
  }

  /** Thread side: true (once) if a control message was posted since the last look. */
  takeControl(): boolean {
    // A plain load first: this runs before every call, and a raised flag is rare.
    const at = this.count * 4;
    return Atomics.load(this.#ints, at) !== 0 && Atomics.exchange(this.#ints, at, 0) !== 0;
  }
}

/** Milliseconds since the epoch with sub-millisecond precision, comparable across threads. */
// Looked up once: the `performance` global is a lazy getter, costly in a spin loop.
const { timeOrigin } = performance;
export const now: () => number = performance.now.bind(performance);
export const epochNow = (): number => timeOrigin + now();
