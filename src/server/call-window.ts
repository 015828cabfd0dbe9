/** Most latencies kept per module and window for its percentiles; past it, a fair sample. */
const MAX_SAMPLES = 4096;

/** Errors kept per window: a flood of failing calls shows as counts, not as many messages. */
const MAX_ERRORS = 20;

/** A failed call, as the dashboard lists it. */
export interface CallError {
  module: string;
  fn: string;
  code: string;
  message: string;
  /** ISO time. */
  at: string;
}

/** One module's calls over one window of time. */
export interface WindowFigures {
  calls: number;
  failures: number;
  /** Failures in the window, by error code. */
  failuresByCode: Record<string, number>;
  /** Latency percentiles of the window's calls, in ms (0 without calls). */
  p50Ms: number;
  p99Ms: number;
}

/**
 * The calls the gateway answered since the last {@link CallWindow.take}, per module: counts,
 * failures by code and latency percentiles over the window (the dashboard's calls/s and p50/p99
 * sparklines). Latencies beyond {@link MAX_SAMPLES} per window are reservoir-sampled, so a busy
 * module costs bounded memory.
 */
export class CallWindow {
  #modules = new Map<
    string,
    { calls: number; failuresByCode: Record<string, number>; ms: number[] }
  >();
  #errors: CallError[] = [];

  /** Records one answered call. */
  observe(module: string, outcome: string, ms: number, ok: boolean): void {
    let entry = this.#modules.get(module);
    if (!entry) {
      entry = { calls: 0, failuresByCode: {}, ms: [] };
      this.#modules.set(module, entry);
    }
    entry.calls++;
    if (!ok) entry.failuresByCode[outcome] = (entry.failuresByCode[outcome] ?? 0) + 1;
    if (entry.ms.length < MAX_SAMPLES) entry.ms.push(ms);
    else {
      const at = Math.floor(Math.random() * entry.calls);
      if (at < MAX_SAMPLES) entry.ms[at] = ms;
    }
  }

  /** Records why a call failed (at most {@link MAX_ERRORS} per window are kept). */
  noteError(module: string, fn: string, code: string, message: string): void {
    if (this.#errors.length < MAX_ERRORS) {
      this.#errors.push({ module, fn, code, message, at: new Date().toISOString() });
    }
  }

  /** The failed calls noted since the last call, oldest first. */
  takeErrors(): CallError[] {
    const taken = this.#errors;
    this.#errors = [];
    return taken;
  }

  /** The figures of the window that ends now, by module; a new window starts. */
  take(): Map<string, WindowFigures> {
    const taken = this.#modules;
    this.#modules = new Map();
    const figures = new Map<string, WindowFigures>();
    for (const [module, entry] of taken) {
      const sorted = entry.ms.sort((a, b) => a - b);
      const failures = Object.values(entry.failuresByCode).reduce((a, b) => a + b, 0);
      figures.set(module, {
        calls: entry.calls,
        failures,
        failuresByCode: entry.failuresByCode,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
      });
    }
    return figures;
  }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const value = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return Math.round(value * 1000) / 1000;
}
