import { EventEmitter } from 'node:events';
import { InvalidArgumentError, RestartIntensityError, type WasmtubeError } from '../errors.js';
import { RestartIntensity } from './restart-intensity.js';

/**
 * How a supervisor reacts when one child crashes (OTP semantics):
 * - `one_for_one`: only the crashed part is replaced (a worker replaces the dead thread).
 * - `one_for_all`: every child is restarted: fresh threads and instances, state starts over.
 * - `rest_for_one`: the crashed child and the children added after it are restarted.
 */
export type RestartStrategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/** Options for {@link Supervisor}. */
export interface SupervisorOptions {
  /** Name used in events and errors. Default: `'supervisor'`. */
  name?: string;
  /** Default: `'one_for_one'`. */
  strategy?: RestartStrategy;
  /** Restarts allowed within `periodMs` before the supervisor gives up. Default: 5. */
  maxRestarts?: number;
  /** The restart-intensity window. Default: 10000 ms. */
  periodMs?: number;
}

/** What a supervisor needs from a child (a `Worker`, later its watcher). */
export interface SupervisedChild {
  readonly name: string;
  /** Restarts the whole child: fresh threads and instances, calls not lost. */
  restart(reason: string): Promise<void>;
  /** Gives up on the child: pending and later calls reject with `error`. */
  fail(error: WasmtubeError): Promise<void>;
}

/** A crash a child reports to its supervisor. */
export interface CrashReport {
  child: string;
  reason: string;
  threadId?: number;
  exitCode?: number;
  error?: unknown;
}

/** Events of a {@link Supervisor}. */
export interface SupervisorEvents {
  /** A crash was handled by the strategy; `restarted` names the children restarted in full. */
  restart: [report: CrashReport & { strategy: RestartStrategy; restarted: string[] }];
  /** The restart intensity was exceeded: every child was failed. */
  failure: [error: WasmtubeError];
}

const STRATEGIES: readonly RestartStrategy[] = ['one_for_one', 'one_for_all', 'rest_for_one'];

/**
 * Owns children and restarts them as OTP supervisors do, within a restart intensity: more than
 * `maxRestarts` crashes within `periodMs` and the supervisor escalates — every child is marked
 * failed, its queued and later calls reject with `ERR_RESTART_INTENSITY`, and `failure` fires.
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor({ strategy: 'one_for_all', maxRestarts: 3, periodMs: 5000 });
 * const a = await Worker.start({ wasmFile: 'a.wasm', supervisor });
 * const b = await Worker.start({ wasmFile: 'b.wasm', supervisor });
 * ```
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly name: string;
  readonly strategy: RestartStrategy;
  readonly #children: SupervisedChild[] = [];
  readonly #intensity: RestartIntensity;
  #failed: WasmtubeError | undefined;

  constructor(options: SupervisorOptions = {}) {
    super();
    const { name = 'supervisor', strategy = 'one_for_one', maxRestarts = 5 } = options;
    const { periodMs = 10_000 } = options;
    if (!STRATEGIES.includes(strategy)) {
      throw new InvalidArgumentError(
        `strategy must be one of ${STRATEGIES.join(', ')}, got ${String(strategy)}.`,
      );
    }
    if (!Number.isInteger(maxRestarts) || maxRestarts < 0) {
      throw new InvalidArgumentError(
        `maxRestarts must be a non-negative integer, got ${maxRestarts}.`,
      );
    }
    if (!(periodMs > 0)) {
      throw new InvalidArgumentError(`periodMs must be a positive number, got ${periodMs}.`);
    }
    this.name = name;
    this.strategy = strategy;
    this.#intensity = new RestartIntensity(maxRestarts, periodMs);
  }

  /** The children, in the order they were added (the order `rest_for_one` follows). */
  get children(): readonly SupervisedChild[] {
    return this.#children;
  }

  /** The escalation error once the supervisor gave up, else undefined. */
  get failure(): WasmtubeError | undefined {
    return this.#failed;
  }

  /** Adds a child. A failed supervisor fails the child at once. */
  add(child: SupervisedChild): void {
    this.#children.push(child);
    if (this.#failed) void child.fail(this.#failed);
  }

  /** Removes a child (when it stops). */
  remove(child: SupervisedChild): void {
    const index = this.#children.indexOf(child);
    if (index !== -1) this.#children.splice(index, 1);
  }

  /**
   * A child reports a crash it already recovered from locally (e.g. a dead thread replaced).
   * Counts it against the restart intensity, then applies the strategy.
   */
  reportCrash(child: SupervisedChild, report: Omit<CrashReport, 'child'>): void {
    if (this.#failed) return;
    const full: CrashReport = { child: child.name, ...report };
    if (!this.#intensity.record()) {
      this.#escalate(full);
      return;
    }
    const index = this.#children.indexOf(child);
    let restarted: SupervisedChild[] = [];
    if (this.strategy === 'one_for_all') restarted = [...this.#children];
    else if (this.strategy === 'rest_for_one' && index !== -1) {
      restarted = this.#children.slice(index);
    }
    for (const c of restarted) {
      c.restart(`${this.strategy}: ${child.name} crashed (${report.reason})`).catch((error) => {
        this.reportCrash(c, { reason: 'restart failed', error });
      });
    }
    this.emit('restart', {
      ...full,
      strategy: this.strategy,
      restarted: restarted.map((c) => c.name),
    });
  }

  #escalate(report: CrashReport): void {
    const error = new RestartIntensityError(
      `Supervisor "${this.name}" saw more than the allowed restarts within its period (last: ` +
        `${report.child} ${report.reason}) and gave up: its workers are failed. Fix the crash, ` +
        `then start the workers again; raise maxRestarts/periodMs only if crashes are expected.`,
      { cause: report.error, details: { ...report, error: undefined } },
    );
    this.#failed = error;
    for (const child of [...this.#children].reverse()) void child.fail(error);
    if (this.listenerCount('failure') > 0) this.emit('failure', error);
  }
}
