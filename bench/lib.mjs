// Shared helpers for the benchmarks: warm-up, repetitions, medians.

/** Runs `fn` (async) `iterations` times after `warmup` runs; returns per-call µs samples' median over `reps` repetitions. */
export async function measure(fn, { iterations = 200, warmup = 50, reps = 5 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const perCall = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    perCall.push(((performance.now() - start) * 1000) / iterations);
  }
  return median(perCall);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function machine() {
  return {
    node: process.version,
    cpus: (globalThis.navigator?.hardwareConcurrency ?? 0) || undefined,
  };
}
