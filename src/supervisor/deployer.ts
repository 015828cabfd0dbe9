import { debuglog } from 'node:util';
import {
  readWasmFile,
  type CompiledModule,
  type CompileOptions,
} from '../bridge/compiled-module.js';
import { compileGuest } from '../component/compile-guest.js';
import { SerialQueue } from '../util/serial-queue.js';
import { sha256 } from '../util/sha256.js';
import { ReloadRejectedError, type WasmtubeError } from '../errors.js';
import {
  FailureRate,
  missingFunctions,
  RollbackWatch,
  type RollbackOptions,
} from './reload-policy.js';
import type { VersionSwitch } from './version-switch.js';
import { WasmFileWatcher } from './wasm-file-watcher.js';
import type { ReloadResult, WorkerEvents } from './worker-types.js';

const debug = debuglog('wasmtube');

/** What a deployer needs of its worker. */
export interface DeployerHooks {
  /** Why the worker takes no deploy now (stopping, stopped, failed), or undefined. */
  notServing(): string | undefined;
  onReload(result: ReloadResult): void;
  onReloadError(error: WasmtubeError): void;
  onRollback(event: WorkerEvents['rollback'][0]): void;
  /** A rollback or a replacement of the threads failed: a crash for the supervisor. */
  onFailed(reason: string, error: unknown): void;
}

/** The deploy settings of a worker (its `Worker.start` options). */
export interface DeployerOptions {
  wasmFile: string | undefined;
  /** How the worker compiles its module (memory cap, isolation), for every new version too. */
  compile: CompileOptions;
  requireExports: boolean;
  /** With defaults; undefined when rollback is off. */
  rollback: Required<RollbackOptions> | undefined;
  reloadStabilityMs: number;
  reloadDebounceMs: number;
}

/**
 * Deploys new versions of a worker's module: validates them (compile, exports kept, not content
 * that was rolled back), has the {@link VersionSwitch} serve them, watches the file, and rolls
 * back a version whose failure rate is clearly above its predecessor's. Deploys, rollbacks and
 * thread replacements run one at a time.
 */
export class Deployer {
  readonly #switch: VersionSwitch;
  readonly #hooks: DeployerHooks;
  readonly #options: DeployerOptions;
  /** One swap of threads at a time: reloads, rollbacks and restarts. */
  readonly #lock = new SerialQueue();
  #hash: string;
  #watcher: WasmFileWatcher | undefined;
  #watch: RollbackWatch | undefined;
  /** Content that was rolled back; not loaded again until the file changes to something else. */
  #rejectedHash: string | undefined;
  /** Calls and failures of the version being served, the baseline for the next one. */
  #health = new FailureRate();
  /** Calls and failures of the last version that served enough calls to tell (none at first). */
  #baseline = new FailureRate();

  constructor(
    versions: VersionSwitch,
    hash: string,
    options: DeployerOptions,
    hooks: DeployerHooks,
  ) {
    this.#switch = versions;
    this.#hash = hash;
    this.#options = options;
    this.#hooks = hooks;
  }

  /** sha256 (hex) of the module bytes being served. */
  get hash(): string {
    return this.#hash;
  }

  /** Validates `bytes` (or the file read again) and serves them as the next version. */
  reload(bytes?: Uint8Array): Promise<ReloadResult> {
    return this.#lock.run(() => this.#reload(bytes));
  }

  /** Replaces every thread with a fresh one, between deploys. */
  replaceThreads(): Promise<void> {
    return this.#lock.run(() => this.#switch.replaceThreads());
  }

  /** Deploys every new build of `file` (reload errors are reported, the old version serves). */
  async watch(file: string): Promise<void> {
    const watcher = new WasmFileWatcher(file, {
      stabilityMs: this.#options.reloadStabilityMs,
      debounceMs: this.#options.reloadDebounceMs,
    });
    this.#watcher = watcher;
    watcher.on('change', () => {
      this.reload().catch((error: WasmtubeError) => this.#hooks.onReloadError(error));
    });
    watcher.on('error', (error) =>
      this.#hooks.onReloadError(
        new ReloadRejectedError(`Watching ${file} failed: ${(error as Error).message}`, {
          cause: error,
        }),
      ),
    );
    await watcher.whenReady();
  }

  /** Stops watching the file. */
  async close(): Promise<void> {
    await this.#watcher?.close();
  }

  /**
   * Counts a call's outcome for its version (`failed`: a trap, timeout or crash); rolls back a
   * freshly deployed version whose failure rate is clearly above its predecessor's.
   */
  noteOutcome(version: number, failed: boolean): void {
    if (version === this.#switch.version) this.#health.record(failed);
    const watch = this.#watch;
    if (!watch?.record(version, failed)) return;
    this.#watch = undefined;
    const { calls, failures } = watch.outcomes;
    debug(
      'version %d failed %d of %d calls (predecessor: %d of %d): rolling back',
      watch.version,
      failures,
      calls,
      watch.baseline.failures,
      watch.baseline.calls,
    );
    this.#lock
      .run(async () => {
        if (this.#hooks.notServing() || this.#switch.version !== watch.version) return;
        await this.#switch.to(watch.previous.compiled, watch.version + 1);
        this.#hash = watch.previous.hash;
        this.#rejectedHash = watch.hash;
        this.#health = new FailureRate();
        this.#hooks.onRollback({
          from: watch.version,
          to: this.#switch.version,
          hash: watch.hash,
          restoredHash: watch.previous.hash,
          calls,
          failures,
          baselineRate: watch.baseline.rate,
        });
      })
      .catch((error: unknown) => this.#hooks.onFailed('rollback failed', error));
  }

  async #reload(given: Uint8Array | undefined): Promise<ReloadResult> {
    const started = performance.now();
    const from = this.#switch.version;
    const { wasmFile } = this.#options;
    const reject = (message: string, cause?: unknown): never => {
      throw new ReloadRejectedError(`Version ${from} keeps serving: ${message}`, {
        cause,
        // The reason alone, for callers that number versions their own way (the gateway).
        details: { version: from, file: wasmFile, reason: message },
      });
    };
    const notServing = this.#hooks.notServing();
    if (notServing) reject(`the worker is ${notServing}.`);
    let bytes = given;
    if (bytes === undefined) {
      if (wasmFile === undefined)
        reject('reload() without bytes needs a worker started from wasmFile.');
      try {
        bytes = readWasmFile(wasmFile!);
      } catch (error) {
        reject(`the file could not be read (${(error as Error).message})`, error);
      }
    }
    const hash = sha256(bytes!);
    if (hash === this.#rejectedHash) {
      reject(`this content (${hash.slice(0, 12)}) was rolled back; deploy a different build.`);
    }
    let compiled!: CompiledModule;
    try {
      compiled = await compileGuest(bytes!, this.#options.compile);
    } catch (error) {
      reject(`the new module was rejected: ${(error as Error).message}`, error);
    }
    if (this.#options.requireExports) {
      const missing = missingFunctions(this.#switch.compiled, compiled);
      if (missing.length > 0) {
        reject(
          `the new module lacks functions the running version exports: ${missing.join(', ')}. ` +
            `Pass requireExports: false to allow removing functions.`,
        );
      }
    }
    const previous = { compiled: this.#switch.compiled, hash: this.#hash };
    try {
      await this.#switch.to(compiled, from + 1);
    } catch (error) {
      reject(`the new version did not start: ${(error as Error).message}`, error);
    }
    if (this.#switch.version !== from + 1) reject(`the worker stopped during the reload.`);
    this.#hash = hash;
    this.#rejectedHash = undefined;
    this.#watchNewVersion(from + 1, hash, previous);
    const result = { from, to: from + 1, hash, durationMs: performance.now() - started };
    this.#hooks.onReload(result);
    return result;
  }

  /** Starts judging a version that just took traffic against the one it replaced. */
  #watchNewVersion(
    version: number,
    hash: string,
    previous: { compiled: CompiledModule; hash: string },
  ): void {
    const rollback = this.#options.rollback;
    // The version it replaced is the yardstick, if it served enough calls to tell its rate.
    if (this.#health.calls >= (rollback?.minCalls ?? Infinity)) this.#baseline = this.#health;
    this.#health = new FailureRate();
    // The same content again (a touch, a copy) has nothing new to judge.
    this.#watch =
      rollback && hash !== previous.hash
        ? new RollbackWatch(version, hash, previous, this.#baseline, rollback)
        : undefined;
  }
}
