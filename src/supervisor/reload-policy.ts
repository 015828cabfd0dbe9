import type { CompiledModule } from '../bridge/compiled-module.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Options for automatic rollback of a new version. A version is judged by its failure rate
 * (traps, memory-limit traps, timeouts and thread crashes per call) against the rate of the
 * versions before it, never by a count: a guest that traps on 5% of its inputs whatever the
 * version deploys fine, and one that fails clearly more often than its predecessor goes back.
 */
export interface RollbackOptions {
  /** Calls the new version must have served before it is judged. Default: 20. */
  minCalls?: number;
  /**
   * How far the new version's failure rate may exceed its predecessor's (0.1: ten percentage
   * points) before it is rolled back. Default: 0.1.
   */
  maxRateIncrease?: number;
  /** How long after taking traffic a version is watched. Default: 10000 ms. */
  minUptimeMs?: number;
}

export const ROLLBACK_DEFAULTS: Required<RollbackOptions> = {
  minCalls: 20,
  maxRateIncrease: 0.1,
  minUptimeMs: 10_000,
};

/**
 * How many standard errors the new rate must be above the predecessor's plus `maxRateIncrease`.
 * Simulated (test/rollback-policy.test.ts): a version failing as often as its predecessor (8%,
 * 150 calls each) was rolled back in none of 20,000 deploys (4 in 10,000 when the predecessor
 * served only 30 calls), while one going from 5% to 30% was caught within ~44 calls and one
 * failing every call within its first `minCalls`.
 */
const SIGNIFICANCE = 3;
/** Failure rates are taken as at least this (and at most 1 − this) for their spread. */
const RATE_FLOOR = 0.02;
const clamp = (rate: number) => Math.min(Math.max(rate, RATE_FLOOR), 1 - RATE_FLOOR);

/** Checks `rollback` options; returns them with defaults, or undefined when disabled. */
export function rollbackOptions(value: unknown): Required<RollbackOptions> | undefined {
  if (value === false) return undefined;
  if (value === undefined) return ROLLBACK_DEFAULTS;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      `options.rollback must be false or an object { minCalls, maxRateIncrease, minUptimeMs }, ` +
        `got ${describe(value)}.`,
    );
  }
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in ROLLBACK_DEFAULTS)) {
      throw new InvalidArgumentError(
        `Unknown option rollback.${key}. Rollback compares failure rates; its options are ` +
          `minCalls, maxRateIncrease and minUptimeMs.`,
      );
    }
  }
  const options = { ...ROLLBACK_DEFAULTS, ...given } as Required<RollbackOptions>;
  if (!Number.isInteger(options.minCalls) || options.minCalls < 1) {
    throw new InvalidArgumentError(
      `options.rollback.minCalls must be a positive integer, got ${describe(options.minCalls)}.`,
    );
  }
  const increase = options.maxRateIncrease;
  if (typeof increase !== 'number' || !(increase >= 0 && increase < 1)) {
    throw new InvalidArgumentError(
      `options.rollback.maxRateIncrease must be a number from 0 to below 1 (a difference of ` +
        `failure rates), got ${describe(increase)}.`,
    );
  }
  if (typeof options.minUptimeMs !== 'number' || !(options.minUptimeMs >= 0)) {
    throw new InvalidArgumentError(
      `options.rollback.minUptimeMs must be a number of milliseconds ≥ 0, got ` +
        `${describe(options.minUptimeMs)}.`,
    );
  }
  return options;
}

const describe = (value: unknown): string =>
  typeof value === 'string' ? JSON.stringify(value) : String(value);

/** Calls of one module version and how many of them failed (trap, timeout, crash). */
export class FailureRate {
  calls = 0;
  failures = 0;

  record(failed: boolean): void {
    this.calls++;
    if (failed) this.failures++;
  }

  get rate(): number {
    return this.calls === 0 ? 0 : this.failures / this.calls;
  }
}

/** Functions `current` exports that `next` does not. */
export function missingFunctions(current: CompiledModule, next: CompiledModule): string[] {
  const functions = (m: CompiledModule) =>
    m.component
      ? m.component.world.functions.map((f) => f.name)
      : WebAssembly.Module.exports(m.module)
          .filter((e) => e.kind === 'function')
          .map((e) => e.name);
  const available = new Set(functions(next));
  return functions(current).filter((name) => !available.has(name));
}

/**
 * Watches a freshly deployed version for its first `minUptimeMs` of traffic, keeping the version
 * it replaced so it can be restored. Once it has served `minCalls` calls, it is due for rollback
 * when its failure rate exceeds the `baseline` rate (its predecessor's calls and failures) by
 * more than `maxRateIncrease`, and by more than chance explains: a two-proportion test, since
 * both rates are estimates (a predecessor that served 30 calls says little about its rate).
 */
export class RollbackWatch {
  readonly version: number;
  readonly hash: string;
  readonly previous: { compiled: CompiledModule; hash: string };
  /** Calls and failures of the versions before this one (none: rate 0). */
  readonly baseline: FailureRate;
  readonly outcomes = new FailureRate();
  readonly #since = Date.now();
  readonly #options: Required<RollbackOptions>;

  constructor(
    version: number,
    hash: string,
    previous: { compiled: CompiledModule; hash: string },
    baseline: FailureRate,
    options: Required<RollbackOptions>,
  ) {
    this.version = version;
    this.hash = hash;
    this.previous = previous;
    this.baseline = baseline;
    this.#options = options;
  }

  /** Still inside the window after which the version counts as proven. */
  get watching(): boolean {
    return Date.now() - this.#since <= this.#options.minUptimeMs;
  }

  /** Records a call of `version`; true when the version must be rolled back. */
  record(version: number, failed: boolean): boolean {
    if (version !== this.version || !this.watching) return false;
    this.outcomes.record(failed);
    const { calls, rate } = this.outcomes;
    if (!failed || calls < this.#options.minCalls) return false;
    const before = this.baseline;
    // Is the rate above the predecessor's plus the tolerance by more than chance explains? Both
    // rates are estimates: the spread counts the predecessor's few calls as well as these.
    const bound = before.rate + this.#options.maxRateIncrease;
    if (rate <= bound) return false;
    const q = clamp(bound);
    const p = clamp(before.rate);
    const spread = (q * (1 - q)) / calls + (before.calls > 0 ? (p * (1 - p)) / before.calls : 0);
    return (rate - bound) / Math.sqrt(spread) >= SIGNIFICANCE;
  }
}
