// A seeded pseudo-random generator (mulberry32) for reproducible test plans: the same seed gives
// the same sequence on every machine. Plain JavaScript so scripts run by plain `node` can use it;
// tests import it through test/seeded-random.ts.

/**
 * @param {number} seed any integer (taken modulo 2^32)
 * @returns {import('./seeded-random.d.mts').SeededRandom}
 * @example
 * const random = seededRandom(42);
 * random.int(6); // 0..5, the same on every run
 */
export function seededRandom(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    pick: (items) => items[int(items.length)],
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = int(256);
      return out;
    },
  };
}
