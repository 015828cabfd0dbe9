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

/** The reservoir's size unless {@link setBlankThreads} says otherwise. */
export const DEFAULT_BLANK_THREADS = 1;

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
  #size = DEFAULT_BLANK_THREADS;
  #started = false;
  /** Booted or booting, oldest first (the first to be claimed). */
  readonly #threads: ClaimedThread[] = [];
  #refill: NodeJS.Immediate | undefined;

  get size(): number {
    return this.#size;
  }

  /** Blank threads booted or booting now. */
  get available(): number {
    return this.#threads.length;
  }

  /** Sets the size: boots the missing threads (once started) or ends the extra ones. */
  resize(size: number): void {
    this.#size = size;
    while (this.#threads.length > size) void this.#threads.pop()!.piscina.destroy();
    if (this.#started) this.#fill();
  }

  /** Starts keeping `size` blank threads warm (a pool that can grow exists). */
  warm(): void {
    this.#started = true;
    this.#fill();
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

  #fill(): void {
    while (this.#threads.length < this.#size) {
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
 * Sets how many warm blank threads the process keeps for pools to claim (default 1; 0 disables
 * the reservoir and ends its threads). A call to a module scaled to zero then takes a thread
 * from the reservoir (≈ a few ms) instead of booting one (≈40 ms). Blank threads never keep the
 * process alive.
 * @throws `ERR_INVALID_ARGUMENT` for a size that is not an integer from 0 to 64.
 */
export function setBlankThreads(size: number): void {
  if (!Number.isInteger(size) || size < 0 || size > 64) {
    throw new InvalidArgumentError(
      `The number of blank threads must be an integer from 0 to 64 (0 disables the reservoir), ` +
        `got ${JSON.stringify(size)}.`,
      { details: { size } },
    );
  }
  blankThreads.resize(size);
}
