import { availableParallelism } from 'node:os';

/**
 * Calls most of which run at least this long (in the thread) spread over every thread. Measured
 * on 2 cores with 2 threads: at ~8 µs per call one thread and two serve alike; at 6 µs (a 64 B
 * JSON echo) one is faster, at 10 µs and more two are.
 */
const SPREAD_FROM_MS = 0.008;
/** Weight of the newest call in the running share. */
const ALPHA = 0.05;

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
  /**
   * The share of recent calls that ran SPREAD_FROM_MS or longer (a running average of 0s and 1s).
   * Most calls, not the average run time, decide: on a busy machine the OS preempts a tiny call
   * now and then, and a mean of such run times (an echo's: p50 5 µs, p90 13 µs) crosses the
   * threshold while most calls stay far below it — and two threads then fight the main thread
   * for the cores.
   */
  #longShare: number | undefined;
  #stuck = false;

  constructor(threads: number, cores = availableParallelism()) {
    this.#threads = threads;
    this.#narrow = Math.min(threads, Math.max(1, cores - 1));
  }

  /** Threads to give calls to now: the first `width` serving threads. */
  get width(): number {
    const share = this.#longShare;
    return this.#stuck || share === undefined || share >= 0.5 ? this.#threads : this.#narrow;
  }

  /** Threads calls go to while calls are tiny; below `threads` only on a machine short of cores. */
  get narrow(): number {
    return this.#narrow;
  }

  /** Counts a finished call's run time (in its thread) into the share of long calls. */
  observe(runMs: number): void {
    const long = runMs >= SPREAD_FROM_MS ? 1 : 0;
    const share = this.#longShare;
    this.#longShare = share === undefined ? long : share + ALPHA * (long - share);
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
