import type { CompiledModule } from '../bridge/compiled-module.js';

/** Options for automatic rollback of a new version. */
export interface RollbackOptions {
  /** Traps and thread crashes the new version may have before it is rolled back. Default: 3. */
  maxFailures?: number;
  /** How long after taking traffic a version is watched. Default: 10000 ms. */
  minUptimeMs?: number;
}

/** Functions `current` exports that `next` does not. */
export function missingFunctions(current: CompiledModule, next: CompiledModule): string[] {
  const functions = (m: CompiledModule) =>
    WebAssembly.Module.exports(m.module)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name);
  const available = new Set(functions(next));
  return functions(current).filter((name) => !available.has(name));
}

/**
 * Watches a freshly deployed version for its first `minUptimeMs` of traffic, keeping the version
 * it replaced so it can be restored: more than `maxFailures` traps or crashes in that window and
 * {@link RollbackWatch.failure} reports it is time to go back.
 */
export class RollbackWatch {
  readonly version: number;
  readonly hash: string;
  readonly previous: { compiled: CompiledModule; hash: string };
  readonly #since = Date.now();
  readonly #maxFailures: number;
  readonly #minUptimeMs: number;
  #failures = 0;

  constructor(
    version: number,
    hash: string,
    previous: { compiled: CompiledModule; hash: string },
    options: Required<RollbackOptions>,
  ) {
    this.version = version;
    this.hash = hash;
    this.previous = previous;
    this.#maxFailures = options.maxFailures;
    this.#minUptimeMs = options.minUptimeMs;
  }

  /** Still inside the window after which the version counts as proven. */
  get watching(): boolean {
    return Date.now() - this.#since <= this.#minUptimeMs;
  }

  /** Records a failure of `version`; true when the version must be rolled back. */
  failure(version: number): boolean {
    if (version !== this.version || !this.watching) return false;
    this.#failures++;
    return this.#failures > this.#maxFailures;
  }
}
