import { availableParallelism } from 'node:os';

/**
 * Calls whose guest runs at least this long (average, in the thread) spread over every thread.
 * Measured on 2 cores with 2 threads: at ~8 µs per call one thread and two serve alike; at 6 µs
 * (a 64 B JSON echo) one is faster, at 10 µs and more two are.
 */
const SPREAD_FROM_MS = 0.008;
/** Weight of the newest call in the running average. */
const ALPHA = 0.05;
/**
 * Run times count up to this much: a call the OS preempted, or a garbage collection, must not
 * widen the dispatch by itself; only most calls running long do.
 */
const SAMPLE_CAP_MS = 2 * SPREAD_FROM_MS;

/**
 * How many of a Worker's threads get calls. A call the guest runs in microseconds costs the
 * main thread about as much to dispatch as a thread to run it, so threads beyond the cores left
 * beside the main thread add only contention: measured on 2 cores, 2 threads served tiny calls
 * at ~0.8× the rate of one. Calls that run longer (see SPREAD_FROM_MS) use every thread, and so
 * does a moment when a thread within the width is stuck on a long call.
 */
export class DispatchWidth {
  readonly #threads: number;
  readonly #narrow: number;
  #averageRunMs: number | undefined;
  #stuck = false;

  constructor(threads: number, cores = availableParallelism()) {
    this.#threads = threads;
    this.#narrow = Math.min(threads, Math.max(1, cores - 1));
  }

  /** Threads to give calls to now: the first `width` serving threads. */
  get width(): number {
    const average = this.#averageRunMs;
    return this.#stuck || average === undefined || average >= SPREAD_FROM_MS
      ? this.#threads
      : this.#narrow;
  }

  /** Threads calls go to while calls are tiny; below `threads` only on a machine short of cores. */
  get narrow(): number {
    return this.#narrow;
  }

  /** Counts a finished call's run time (in its thread) into the average. */
  observe(runMs: number): void {
    runMs = Math.min(runMs, SAMPLE_CAP_MS);
    const average = this.#averageRunMs;
    this.#averageRunMs = average === undefined ? runMs : average + ALPHA * (runMs - average);
  }

  /**
   * Whether a thread within the narrow width is busy with one long call; then calls may go to
   * every thread. Returns true when that changed the width.
   */
  setStuck(stuck: boolean): boolean {
    const before = this.width;
    this.#stuck = stuck;
    return this.width !== before;
  }
}
