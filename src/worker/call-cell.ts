/**
 * A call cell: a few bytes of shared memory through which the thread running a call tells the
 * main thread, without a message, that the call has started, on which thread and when. Timeouts
 * count from that moment (running time, not queue time), and a call that never started can be
 * safely sent to another thread when its thread dies.
 *
 * Layout: Int32 [0] state, [1] threadId; Float64 [1] start time (ms since the epoch).
 */

export const enum CellState {
  Queued = 0,
  Running = 1,
  Done = 2,
}

const BYTES = 16;

/** One call's shared cell, as seen from either side. */
export class CallCell {
  readonly buffer: SharedArrayBuffer;
  readonly #ints: Int32Array;
  readonly #floats: Float64Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(BYTES)) {
    this.buffer = buffer;
    this.#ints = new Int32Array(buffer, 0, 2);
    this.#floats = new Float64Array(buffer, 8, 1);
  }

  get state(): CellState {
    return Atomics.load(this.#ints, 0);
  }

  get threadId(): number {
    return Atomics.load(this.#ints, 1);
  }

  /** Start time in ms since the epoch; meaningful once `state` is Running. */
  get startedAt(): number {
    return this.#floats[0]!;
  }

  /** Thread side: the call starts now on `threadId`. */
  markRunning(threadId: number, now: number): void {
    this.#floats[0] = now;
    Atomics.store(this.#ints, 1, threadId);
    Atomics.store(this.#ints, 0, CellState.Running); // last: publishes the two writes above
  }

  markDone(): void {
    Atomics.store(this.#ints, 0, CellState.Done);
  }

  /** Main side: make a settled cell reusable for another call. */
  reset(): void {
    Atomics.store(this.#ints, 0, CellState.Queued);
    Atomics.store(this.#ints, 1, 0);
  }
}

/** Reuses cells so a call does not allocate shared memory. */
export class CallCellPool {
  readonly #free: CallCell[] = [];

  take(): CallCell {
    return this.#free.pop() ?? new CallCell();
  }

  /** Only for cells whose call has settled and whose thread will not write to them again. */
  give(cell: CallCell): void {
    cell.reset();
    if (this.#free.length < 1024) this.#free.push(cell);
  }
}

/** Milliseconds since the epoch with sub-millisecond precision, comparable across threads. */
export const epochNow = (): number => performance.timeOrigin + performance.now();
