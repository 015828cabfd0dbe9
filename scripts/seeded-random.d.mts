/** A seeded pseudo-random generator (mulberry32): the same seed, the same sequence. */
export interface SeededRandom {
  /** The seed it was made with: print it with a failure to replay the run. */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One of `items`. */
  pick<T>(items: readonly T[]): T;
  /** `n` random bytes. */
  bytes(n: number): Buffer;
}

/**
 * A generator seeded with `seed` (any integer, taken modulo 2^32).
 * @example
 * const random = seededRandom(42);
 * random.int(6); // 0..5, the same on every run
 */
export function seededRandom(seed: number): SeededRandom;
