import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import { InvalidArgumentError } from '../errors.js';
import type { BlankThreadData } from '../thread/blank-thread.js';
import { piscinaOfOne } from './piscina-of-one.js';

/** A blank thread handed to the pool that claims it. */
export interface ClaimedThread {
  piscina: Piscina;
  /**
   * The piscina's workerData: the claiming pool fills it with its module's ThreadData, so that
   * a replacement of this thread (after a crash) starts on the module, not blank.
   */
  workerData: Record<string, unknown>;
}

/** How many blank threads to keep: a number, or `'auto'` (see {@link setBlankThreads}). */
export type BlankThreadCount = number | 'auto';

/** The reservoir's size unless {@link setBlankThreads} says otherwise. */
export const DEFAULT_BLANK_THREADS: BlankThreadCount = 'auto';

/**
 * The process-wide reservoir of warm blank threads shared by every pool. Booting a thread
 * (Node, then this library's thread code) takes ≈40 ms; telling a booted thread which compiled
 * module to instantiate takes ≈1 ms. A pool that grows (a call to a module scaled to zero, or
 * load) claims a blank thread instead of booting one, and the reservoir boots a replacement in
 * the background. Pools whose threads need `resourceLimits` boot their own.
 *
 * It starts with the first pool that can grow ({@link warm}); processes with only fixed pools
 * never boot one. Blank threads are unref'd like idle pool threads: they never keep the process
 * alive.
 */
class BlankThreads {
  #setting: BlankThreadCount = DEFAULT_BLANK_THREADS;
  #started = false;
  /** How far each pool that can grow may grow (maxThreads − minThreads), for `'auto'`. */
  readonly #growth = new Map<object, number>();
  /** Booted or booting, oldest first (the first to be claimed). */
  readonly #threads: ClaimedThread[] = [];
  #refill: NodeJS.Immediate | undefined;

  /**
   * Threads to keep now. `'auto'`: as many as the largest growth a live pool can make, so a
   * burst takes every thread it needs at once (booting one while the cores are busy serving
   * took 200+ ms here), at most one per core (more threads than cores rarely serve faster) and
   * none once no pool can grow.
   */
  get size(): number {
    if (this.#setting !== 'auto') return this.#setting;
    const largest = Math.max(0, ...this.#growth.values());
    return Math.min(largest, availableParallelism());
  }

  /** Blank threads booted or booting now. */
  get available(): number {
    return this.#threads.length;
  }

  /** Sets the size: boots the missing threads (once started) or ends the extra ones. */
  resize(setting: BlankThreadCount): void {
    this.#setting = setting;
    this.#fit();
  }

  /**
   * A pool that can grow by `growth` threads exists (`owner` until {@link release}): keep blank
   * threads warm for it.
   */
  warm(owner: object, growth: number): void {
    this.#started = true;
    this.#growth.set(owner, growth);
    this.#fit();
  }

  /** The pool `owner` stopped: with `'auto'` the reservoir shrinks to what the others need. */
  release(owner: object): void {
    if (this.#growth.delete(owner)) this.#fit();
  }

  /**
   * Hands over the oldest blank thread, or undefined if there is none. A replacement boots after
   * this turn, off the claiming call's path.
   */
  claim(): ClaimedThread | undefined {
    const claimed = this.#threads.shift();
    if (!claimed) return undefined;
    claimed.piscina.removeAllListeners('error');
    this.#refill ??= setImmediate(() => {
      this.#refill = undefined;
      this.#fill();
    }).unref();
    return claimed;
  }

  /** Ends the threads beyond the size, and boots the missing ones once a pool can grow. */
  #fit(): void {
    const size = this.size;
    while (this.#threads.length > size) void this.#threads.pop()!.piscina.destroy();
    if (this.#started) this.#fill();
  }

  #fill(): void {
    while (this.#threads.length < this.size) {
      const workerData: BlankThreadData & Record<string, unknown> = { wasmtubeBlank: true };
      const piscina = piscinaOfOne(workerData, undefined);
      // A blank thread runs no guest code; should it die anyway, piscina replaces it.
      piscina.on('error', () => undefined);
      this.#threads.push({ piscina, workerData });
    }
  }
}

/** The one reservoir of the process. */
export const blankThreads = new BlankThreads();

/**
 * Sets how many warm blank threads the process keeps for pools to claim. A call to a module
 * scaled to zero, or a pool growing under load, then takes a thread from the reservoir (≈ a few
 * ms) instead of booting one (≈40 ms on a quiet machine, 200+ ms while the cores are busy).
 * Default `'auto'`: the largest growth (maxThreads − minThreads) of the pools alive, at most one
 * per core, none while no pool can grow. A number fixes the size (0 disables the reservoir and
 * ends its threads). Each blank thread holds ≈10 MB; blank threads never keep the process alive.
 * @throws `ERR_INVALID_ARGUMENT` for a size that is not `'auto'` or an integer from 0 to 64.
 */
export function setBlankThreads(size: BlankThreadCount): void {
  if (size !== 'auto' && (!Number.isInteger(size) || size < 0 || size > 64)) {
    throw new InvalidArgumentError(
      `The number of blank threads must be 'auto' or an integer from 0 to 64 (0 disables the ` +
        `reservoir), got ${JSON.stringify(size)}.`,
      { details: { size } },
    );
  }
  blankThreads.resize(size);
}
