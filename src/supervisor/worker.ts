import { EventEmitter } from 'node:events';
import { compileGuest, readWasmFile, type CompiledModule } from '../component/compile-guest.js';
import { describeExports, type ExportInfo } from '../bridge/describe-exports.js';
import type { CommandResult } from '../bridge/guest-instance.js';
import type { TypedCallOptions } from '../bridge/typed-call.js';
import { mainThreadFunctions, serveHostChannel } from './host-channel-server.js';
import { InvalidArgumentError, WasmtubeError, WorkerNotFoundError } from '../errors.js';
import type { CallFunction, CallInput } from '../types.js';
import type { ThreadData, ThreadResponse } from '../protocol/messages.js';
import { lookup, register, unregister } from './registry.js';
import { Supervisor, type SupervisedChild } from './supervisor.js';
import { rollbackOptions } from './reload-policy.js';
import { rejectNonObject, toProbe } from './call-encoding.js';
import {
  checkKnownOptions,
  checkOptionsObject,
  checkOptionValues,
  MAX_TIMER_MS,
  milliseconds,
} from '../bridge/check-options.js';
import { checkOptions, compileOptions, DEFAULTS, threadData } from './worker-options.js';
import type {
  CallInfo,
  ReloadResult,
  RestartReason,
  WorkerCallOptions,
  WorkerEvents,
  WorkerOptions,
  WorkerState,
  WorkerStats,
} from './worker-types.js';
import type { ThreadLink } from './thread-link.js';
import type { CallSpec, PendingCall } from './pending-call.js';
import { ThreadTable, type ThreadExit, type ThreadScale } from './thread-table.js';
import { Dispatcher, started } from './dispatcher.js';
import { CallBook } from './call-book.js';
import { callSpec, NO_OPTIONS, type CallRequest } from './call-admission.js';
import { notTakingCalls } from './call-errors.js';
import { VersionSwitch } from './version-switch.js';
import { Deployer } from './deployer.js';
import { Watchdog } from './watchdog.js';
import { sha256 } from '../util/sha256.js';

const STOP_OPTIONS = new Set(['timeoutMs']);

/**
 * A supervised pool of worker threads, each holding one instance of a module, with the
 * bridge's `callFunction`. Nothing a guest does — trap, endless loop, memory bomb, a crash in
 * host code — takes down the caller, loses a queued call or stops the other threads.
 *
 * @example
 * ```ts
 * const worker = await Worker.start({ wasmFile: 'guest.wasm', name: 'echo', threads: 2 });
 * await worker.callFunction('echo', { data: { args: 'World' } }, { timeoutMs: 1000 });
 * await Worker.callFunction('echo', 'echo', { data: 1 });   // by registered name
 * await worker.stop();
 * ```
 */
export class Worker extends EventEmitter<WorkerEvents> implements SupervisedChild {
  readonly #name: string | undefined;
  readonly #options: Required<Pick<WorkerOptions, keyof typeof DEFAULTS>> & WorkerOptions;
  readonly #supervisor: Supervisor;
  /** The pools of threads and their call channels. */
  readonly #table: ThreadTable;
  /** Which thread runs which call. */
  readonly #dispatch: Dispatcher;
  /** The calls in flight and how each ends. */
  readonly #calls: CallBook;
  #state: WorkerState = 'running';
  #failure: WasmtubeError | undefined;
  /** Timeouts and thread health, while calls are in flight. */
  readonly #watchdog: Watchdog;
  #recovering = false;
  #stopping: Promise<void> | undefined;
  /** The module version the threads serve, and how it changes. */
  readonly #versions: VersionSwitch;
  /** Reloads, the file watcher and rollback. */
  readonly #deployer: Deployer;
  readonly #probe: ThreadData['probe'];

  private constructor(
    options: WorkerOptions,
    compiled: CompiledModule,
    hash: string,
    scale: ThreadScale,
  ) {
    super();
    this.#probe = options.probe && toProbe(options.probe);
    this.#options = { ...DEFAULTS, ...options };
    this.#name = options.name;
    this.#supervisor =
      options.supervisor ?? new Supervisor({ name: options.name, ...options.supervision });
    this.#table = new ThreadTable(
      {
        scale,
        spares: this.#options.spareThreads,
        startTimeoutMs: this.#options.startTimeoutMs,
        resourceLimits: options.resourceLimits,
      },
      {
        onLink: (link) => {
          // It started before its pool switched versions in place: it switches before serving.
          if (link.version !== link.pool.version && link.pool === this.#table.pool) {
            this.#versions.catchUp(link);
          }
          this.#dispatch.pump();
        },
        onResponse: (call, response, link) => this.#onResponse(call, response, link),
        onUnsendable: (call, error) =>
          this.#calls.settle(
            call,
            new InvalidArgumentError(
              `The input of ${call.fn} could not be sent to a thread (${error.message}). ` +
                `Pass plain data: JSON values, Uint8Arrays, numbers and strings.`,
              { cause: error, details: { fn: call.fn } },
            ),
          ),
        onExit: (exit) => this.#onThreadExit(exit),
        onHostChannel: (port, buffer) =>
          serveHostChannel(port, buffer, mainThreadFunctions(this.#options)),
        onGrowthFailed: (error) => {
          for (const call of this.#dispatch.takeAll()) this.#calls.settle(call, error);
        },
      },
    );
    this.#dispatch = new Dispatcher(this.#table);
    this.#calls = new CallBook(
      { dispatch: this.#dispatch, table: this.#table },
      this.#options.maxQueue,
      {
        failure: () => this.#failure,
        state: () =>
          this.#state === 'running' || this.#state === 'stopping' ? this.#state : 'other',
        onOutcome: (version, failed) => this.#deployer.noteOutcome(version, failed),
        onTrap: (event) => this.emit('trap', event),
        onBusy: () => this.#watchdog.start(),
        onDrain: () => {
          this.#watchdog.stop();
          this.emit('drain');
        },
      },
    );
    this.#watchdog = new Watchdog(
      { table: this.#table, calls: this.#calls, dispatch: this.#dispatch },
      this.#options.startTimeoutMs,
      {
        onTimeout: (call, link) => {
          this.#deployer.noteOutcome(link.version, true);
          this.#calls.stats.timeouts++;
          this.emit('timeout', { fn: call.fn, timeoutMs: call.timeoutMs, threadId: link.threadId });
        },
        onThreadsFailed: () => {
          this.#recovering = true;
          this.#supervisor.reportCrash(this, { reason: 'threads failed to start' });
          this.#deployer
            .replaceThreads()
            .catch((error: unknown) =>
              this.#supervisor.reportCrash(this, { reason: 'restart failed', error }),
            )
            .finally(() => (this.#recovering = false));
        },
        serving: () => this.#state === 'running' && !this.#recovering,
      },
    );
    this.#versions = new VersionSwitch(
      this.#table,
      { compiled, version: 0 },
      {
        threadData: (module, version) => threadData(this.#options, this.#probe, module, version),
        serving: () => this.#state === 'running',
        onPoolSwapped: (old) => {
          for (const call of this.#calls.inflight()) {
            if (call.link?.pool === old && !started(call)) this.#calls.requeue(call);
          }
          this.#table.retireIdle();
          this.#dispatch.pump();
        },
        onThreadReady: () => this.#dispatch.pump(),
      },
    );
    this.#deployer = new Deployer(
      this.#versions,
      hash,
      {
        wasmFile: options.wasmFile,
        compile: compileOptions(options),
        requireExports: options.requireExports !== false,
        rollback: rollbackOptions(options.rollback),
        reloadStabilityMs: options.reloadStabilityMs ?? 30,
        reloadDebounceMs: options.reloadDebounceMs ?? 10,
      },
      {
        notServing: () => (this.#state === 'running' ? undefined : this.#state),
        onReload: (result) => this.emit('reload', result),
        onReloadError: (error) => this.emit('reload-error', error),
        onRollback: (event) => this.emit('rollback', event),
        onFailed: (reason, error) => this.#supervisor.reportCrash(this, { reason, error }),
      },
    );
  }

  /**
   * Compiles the module once in this thread, starts the threads (each instantiates the posted
   * module without recompiling) and resolves once every thread is ready.
   * @throws the bridge's load errors, `ERR_START_TIMEOUT`, `ERR_NAME_TAKEN`, `ERR_INVALID_ARGUMENT`
   */
  static async start(options: WorkerOptions): Promise<Worker> {
    const scale = checkOptions(options);
    rollbackOptions(options.rollback); // before compiling: option errors come first
    const bytes =
      options.wasmFile !== undefined ? readWasmFile(options.wasmFile) : options.wasmBinary!;
    const compiled = await compileGuest(bytes, compileOptions(options));
    const worker = new Worker(options, compiled, sha256(bytes), scale);
    if (worker.#name !== undefined) register(worker.#name, worker);
    try {
      await worker.#versions.start();
      if (options.wasmFile !== undefined && options.watch !== false) {
        await worker.#deployer.watch(options.wasmFile);
      }
    } catch (error) {
      if (worker.#name !== undefined) unregister(worker.#name, worker);
      await worker.#table.closeAll().ended;
      await worker.#deployer.close();
      throw error;
    }
    worker.#supervisor.add(worker);
    return worker;
  }

  /** The running worker registered under `name`, if any. */
  static whereis(name: string): Worker | undefined {
    const found = lookup(name);
    return found instanceof Worker ? found : undefined;
  }

  /**
   * Calls `fn` on the worker registered as `name` (Elixir's `GenServer.call(name, ...)`).
   * Rejects with `ERR_WORKER_NOT_FOUND` if there is none.
   */
  static callFunction<T = unknown>(
    name: string,
    fn: string,
    input: CallInput,
    options?: WorkerCallOptions,
  ): Promise<T> {
    const worker = Worker.whereis(name);
    if (!worker) {
      return Promise.reject(
        new WorkerNotFoundError(`No running worker is named "${name}".`, { details: { name } }),
      );
    }
    return worker.callFunction(fn, input, options as WorkerCallOptions<'json'>) as Promise<T>;
  }

  /** The registered name, or the supervisor-facing label `worker`. */
  get name(): string {
    return this.#name ?? 'worker';
  }

  /** Module version being served: 0 at start, +1 per successful reload. */
  get version(): number {
    return this.#versions.version;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** The supervisor owning this worker. */
  get supervisor(): Supervisor {
    return this.#supervisor;
  }

  /**
   * Calls `fn` on some thread, with exactly the bridge's semantics and errors, plus
   * `ERR_CALL_TIMEOUT`, `ERR_QUEUE_TIMEOUT`, `ERR_QUEUE_FULL`, `ERR_WORKER_EXITED`,
   * `ERR_WORKER_STOPPED`, `ERR_RESTART_INTENSITY`, and `ERR_ABORTED` from `signal`. Aborting a
   * running call terminates and replaces its thread, as a timeout does.
   */
  readonly callFunction = ((name: string, input: CallInput, options = NO_OPTIONS) =>
    this.#enqueue(name, { input }, options, false)) as CallFunction<WorkerCallOptions>;

  /** Like {@link callFunction}, and also tells which version and thread served the call. */
  callFunctionWithInfo<T = unknown>(
    fn: string,
    input: CallInput,
    options: WorkerCallOptions = NO_OPTIONS,
  ): Promise<{ result: T; info: CallInfo }> {
    return this.#enqueue(fn, { input }, options, true);
  }

  /**
   * A typed call (see `Wasmtube.call` and docs/ABI.md) on some thread, with the worker's
   * timeouts, retries and errors.
   * @example
   * ```ts
   * await worker.call('add', [2, 3]);                            // → 5
   * await worker.call('greet', ['Ada'], { returns: 'string' });  // → 'Hello, Ada!'
   * ```
   */
  call<T = unknown>(
    fn: string,
    args: unknown[] = [],
    options: TypedCallOptions & Omit<WorkerCallOptions, 'returns'> = {},
  ): Promise<T> {
    const invalid = rejectNonObject(options, 'worker.call');
    if (invalid) return invalid;
    const { params, returns, ...callOptions } = options;
    const typed = { args, options: { ...(params && { params }), ...(returns && { returns }) } };
    return this.#enqueue(fn, { typed }, callOptions, false);
  }

  /**
   * Runs a WASI command module (`_start`) on a fresh instance in some thread, with these
   * arguments and stdin; resolves its exit code and captured output (see `Wasmtube.run`).
   */
  run(
    options: { args?: string[]; stdin?: string | Uint8Array } & Omit<
      WorkerCallOptions,
      'returns'
    > = {},
  ): Promise<CommandResult> {
    const invalid = rejectNonObject(options, 'worker.run');
    if (invalid) return invalid;
    const { args, stdin, ...callOptions } = options;
    const run = { ...(args && { args }), ...(stdin !== undefined && { stdin }) };
    return this.#enqueue('_start', { run }, callOptions, false);
  }

  /** The served module's exported functions, signatures and calling conventions. */
  exports(): ExportInfo[] {
    return describeExports(this.#versions.compiled);
  }

  /** A snapshot of threads, queue and counters. */
  stats(): WorkerStats {
    let running = 0;
    for (const call of this.#calls.inflight()) if (started(call)) running++;
    const s = this.#calls.stats;
    const pool =
      this.#state === 'running' || this.#state === 'stopping' ? this.#table.pool : undefined;
    return {
      name: this.#name,
      state: this.#state,
      version: this.#versions.version,
      threads: this.#table.status(pool),
      queued: this.#calls.size - running,
      running,
      completed: s.completed,
      failed: s.failed,
      failedByCode: { ...s.failedByCode },
      restarts: s.restarts,
      timeouts: s.timeouts,
      traps: s.traps,
      latencyMs: s.latency(),
    };
  }

  /**
   * Stops taking calls, lets queued and running calls finish — rejecting those left after
   * `timeoutMs` with `ERR_WORKER_STOPPED` — then terminates the threads and frees the name.
   * Idempotent: every call returns the same promise.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    try {
      checkOptionsObject(options, 'stop() options');
      checkKnownOptions(options, STOP_OPTIONS);
      checkOptionValues(options, { timeoutMs: milliseconds });
    } catch (error) {
      return Promise.reject(error);
    }
    this.#stopping ??= this.#stop(options.timeoutMs ?? 10_000);
    return this.#stopping;
  }

  /** `await using worker = await Worker.start(...)` stops it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** sha256 (hex) of the module bytes being served. */
  get hash(): string {
    return this.#deployer.hash;
  }

  /**
   * Deploys a new version on demand (the waPC `replace_module` analogue): `bytes`, or the
   * `wasmFile` read again. The bytes are compiled, checked for the exports the running version
   * has, and started (and probed) on a new set of threads while the old ones keep serving; then
   * new calls go to the new threads, calls not yet started move to them, and the old threads
   * finish what they were running and exit. Every call is served wholly by one version.
   * Rejects with `ERR_RELOAD_REJECTED` (the running version keeps serving).
   */
  reload(bytes?: Uint8Array): Promise<ReloadResult> {
    return this.#deployer.reload(bytes);
  }

  /** Supervisor hook: replaces every thread (fresh instances), without losing calls. */
  async restart(_reason: string): Promise<void> {
    if (this.#state !== 'running') return;
    // Through the reload queue: a restart and a reload never swap pools at the same time.
    await this.#deployer.replaceThreads();
    this.#calls.stats.restarts++;
    this.emit('restart', { reason: 'supervisor', version: this.#versions.version });
  }

  /** Supervisor hook: gives up; pending and later calls reject with `error`. */
  async fail(error: WasmtubeError): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'failed') return;
    this.#state = 'failed';
    this.#failure = error;
    for (const call of [...this.#calls.inflight()]) this.#calls.stop(call, 'failed');
    this.emit('failure', error);
    await this.#shutdown();
  }

  // ---- calls ----

  /** Accepts a call and queues it; the promise settles with its result (and info if asked). */
  #enqueue<T>(
    fn: string,
    request: CallRequest,
    options: WorkerCallOptions,
    withInfo: boolean,
  ): Promise<T> {
    if (this.#state !== 'running') {
      return this.#calls.refuse(this.#failure ?? notTakingCalls(this.#name, this.#state));
    }
    let spec: CallSpec;
    try {
      spec = callSpec(fn, request, options, this.#options, withInfo);
    } catch (error) {
      return this.#calls.refuse(error);
    }
    return this.#calls.add<T>(spec);
  }

  #onResponse(call: PendingCall, response: ThreadResponse, link: ThreadLink<PendingCall>): void {
    this.#calls.answer(call, response);
    this.#dispatch.rebalance(link);
    this.#dispatch.pump();
  }

  // ---- pools ----

  #onThreadExit({ pool, threadId, exitCode, planned, link, lost, scaledDown }: ThreadExit): void {
    for (const { call, state } of lost) this.#calls.lost(call, state, exitCode);
    const retired = scaledDown || pool !== this.#table.pool || this.#state !== 'running';
    this.emit('exit', { threadId, exitCode, expected: planned !== undefined || retired });
    if (retired) return;
    this.#calls.stats.restarts++;
    const reason: RestartReason = planned ?? 'crash';
    this.emit('restart', { reason, threadId, exitCode, version: pool.version });
    if (reason === 'crash') {
      this.#deployer.noteOutcome(link?.version ?? pool.version, true);
      this.#supervisor.reportCrash(this, {
        reason: `thread exited with code ${exitCode}`,
        threadId,
        exitCode,
      });
    }
  }

  async #stop(timeoutMs: number): Promise<void> {
    if (this.#state === 'running') this.#state = 'stopping';
    if (this.#calls.size > 0 && this.#state === 'stopping') {
      await new Promise<void>((resolve) => {
        const drained = () => (clearTimeout(timer), resolve());
        // Past the longest delay a Node timer takes (Infinity too): wait for the drain alone.
        const timer =
          timeoutMs <= MAX_TIMER_MS
            ? setTimeout(() => (this.off('drain', drained), resolve()), timeoutMs)
            : undefined;
        this.once('drain', drained);
      });
    }
    for (const call of [...this.#calls.inflight()]) this.#calls.stop(call, 'stopped');
    if (this.#state === 'stopping') this.#state = 'stopped';
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#watchdog.stop();
    await this.#deployer.close();
    if (this.#name !== undefined) unregister(this.#name, this);
    this.#supervisor.remove(this);
    // Calls still on these threads end with them: say why, as the thread exits go unreported.
    const { lost, ended } = this.#table.closeAll();
    this.#calls.abandon(lost, true);
    this.#calls.abandon(this.#dispatch.takeAll(), false);
    await ended;
  }
}
