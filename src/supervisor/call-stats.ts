import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Counters of settled calls, kept by a worker for `stats()`. */
export class CallStats {
  completed = 0;
  failed = 0;
  readonly failedByCode: Record<string, number> = {};
  restarts = 0;
  timeouts = 0;
  traps = 0;
  // Microsecond resolution: node's histogram records integers.
  readonly #latency: RecordableHistogram = createHistogram();

  succeeded(latencyMs: number): void {
    this.completed++;
    this.#record(latencyMs);
  }

  failedWith(code: string, latencyMs: number): void {
    this.failed++;
    this.failedByCode[code] = (this.failedByCode[code] ?? 0) + 1;
    this.#record(latencyMs);
  }

  #record(latencyMs: number): void {
    this.#latency.record(Math.max(1, Math.round(latencyMs * 1000)));
  }

  /** Percentiles over every settled call (queue wait included). */
  latency(): LatencySummary {
    const h = this.#latency;
    const ms = (us: number) => Math.round(us) / 1000;
    if (h.count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return {
      count: h.count,
      mean: ms(h.mean),
      p50: ms(h.percentile(50)),
      p90: ms(h.percentile(90)),
      p99: ms(h.percentile(99)),
      max: ms(h.max),
    };
  }
}
