import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { compileModule, readWasmFile, type CompiledModule } from '../bridge/compiled-module.js';
import { describeExports, type ExportInfo } from '../bridge/describe-exports.js';
import type { CommandResult } from '../bridge/guest-instance.js';
import { hostSignatures, type HostFunction, type HostFunctions } from '../bridge/host-functions.js';
import type { TypedCallOptions } from '../bridge/typed-call.js';
import { WAPC_CHANNEL } from '../protocol/host-channel.js';
import { serveHostChannel } from './host-channel-server.js';
import { debuglog } from 'node:util';
import { SerialQueue } from '../bridge/serial-queue.js';
import {
  AbortError,
  CallTimeoutError,
  deserializeError,
  InvalidArgumentError,
  QueueFullError,
  QueueTimeoutError,
  ReloadRejectedError,
  WasmtubeError,
  WorkerExitedError,
  WorkerNotFoundError,
  WorkerStoppedError,
} from '../errors.js';
import type {
  BytesInput,
  CallInput,
  ImageInput,
  ResultKind,
  ResultTypes,
  RgbImage,
} from '../types.js';
import { epochNow, SlotState } from '../protocol/call-slots.js';
import type { ThreadData, ThreadResponse, ThreadTask } from '../protocol/messages.js';
import { CallStats } from './call-stats.js';
import { DispatchWidth } from './dispatch-width.js';
import { lookup, register, unregister } from './registry.js';
import { Supervisor, type SupervisedChild } from './supervisor.js';
import {
  FailureRate,
  missingFunctions,
  rollbackOptions,
  RollbackWatch,
  type RollbackOptions,
} from './reload-policy.js';
import {
  checkWorkerCall,
  encodeInput,
  rejectNonObject,
  revive,
  toProbe,
  toTask,
} from './call-encoding.js';
import { checkResultBuffer } from '../bridge/payload.js';
import {
  checkKnownOptions,
  checkOptionsObject,
  checkOptionValues,
  MAX_TIMER_MS,
  milliseconds,
} from '../bridge/check-options.js';
import { checkMs, checkOptions, DEFAULTS, moduleSpecifier } from './worker-options.js';
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
import { ThreadLink } from './thread-link.js';
import { ThreadPool } from './thread-pool.js';
import { WasmFileWatcher } from './watcher.js';

/** What a call asks a thread to do. */
type CallRequest =
  | { input: CallInput }
  | { typed: NonNullable<ThreadTask['typed']> }
  | { run: NonNullable<ThreadTask['run']> };

interface PendingCall {
  fn: string;
  input: CallInput | undefined;
  returns: ResultKind | undefined;
  /** Where a bytes or RGB result is copied when it fits (`options.resultBuffer`). */
  resultBuffer: Uint8Array | undefined;
  typed: ThreadTask['typed'];
  run: ThreadTask['run'];
  timeoutMs: number;
  queueTimeoutMs: number;
  retriesLeft: number;
  createdAt: number;
  attempts: number;
  /** The thread link the call is posted to, and its slot there; undefined while queued here. */
  link: ThreadLink<PendingCall> | undefined;
  slot: number;
  /** The last thread the call was posted to. */
  threadId: number;
  abortReason: 'timeout' | 'queue-timeout' | 'user' | 'stopped' | 'failed' | 'requeue' | undefined;
  userSignal: AbortSignal | undefined;
  onUserAbort: (() => void) | undefined;
  /** Called with the result, or with `{ result, info }` when `withInfo`. */
  resolve: (value: unknown) => void;
  withInfo: boolean;
  reject: (error: unknown) => void;
}

const debug = debuglog('wasmtube');
/** An idle thread takes calls waiting behind a call that has run longer than this. */
const STEAL_AFTER_MS = 2;
/**
 * While tiny calls go to fewer threads (DispatchWidth), the others take calls once one of those
 * has run a single call this long: a thread the OS preempted for a moment is not stuck.
 */
const WIDEN_AFTER_MS = 10;
/** How long a reload waits for every thread to prepare the new version in place. */
const IN_PLACE_WAIT_MS = 100;
const STOP_OPTIONS = new Set(['timeoutMs']);
/** How often in-flight calls are checked against their timeouts. */
const WATCHDOG_MS = 10;

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
  readonly #threads: number;
  readonly #width: DispatchWidth;
  readonly #supervisor: Supervisor;
  readonly #stats = new CallStats();
  readonly #inflight = new Set<PendingCall>();
  /** Calls waiting for a slot on a thread, oldest first. */
  readonly #queue: PendingCall[] = [];
  /** Calls in flight that have a queue timeout. */
  #queueTimeouts = 0;
  /** Every thread's call channel, by thread id. */
  readonly #links = new Map<number, ThreadLink<PendingCall>>();
  readonly #retiring = new Set<ThreadPool>();
  /** Threads we terminated on purpose, so their exits are not crashes. */
  readonly #expectedExits = new Map<number, RestartReason>();
  /** Numbers in-place reloads, so a thread's answer is matched to its reload. */
  #swapIds = 0;
  #compiled: CompiledModule;
  #version = 0;
  #pool!: ThreadPool;
  #state: WorkerState = 'running';
  #failure: WasmtubeError | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #degradedSince: number | undefined;
  #recovering = false;
  #stopping: Promise<void> | undefined;
  #hash: string;
  #watcher: WasmFileWatcher | undefined;
  readonly #reloads = new SerialQueue();
  #rollbackWatch: RollbackWatch | undefined;
  /** Rollback settings with defaults; undefined when rollback is off. */
  readonly #rollback: Required<RollbackOptions> | undefined;
  /** Calls and failures of the version being served, the baseline for the next one. */
  #health = new FailureRate();
  /** Calls and failures of the last version that served enough calls to tell (none at first). */
  #baseline = new FailureRate();
  /** Content that was rolled back; not loaded again until the file changes to something else. */
  #rejectedHash: string | undefined;
  readonly #probe: ThreadData['probe'];

  private constructor(
    options: WorkerOptions,
    compiled: CompiledModule,
    hash: string,
    threads: number,
  ) {
    super();
    this.#hash = hash;
    this.#probe = options.probe && toProbe(options.probe);
    this.#options = { ...DEFAULTS, ...options };
    this.#name = options.name;
    this.#threads = threads;
    this.#width = new DispatchWidth(threads);
    this.#compiled = compiled;
    this.#rollback = rollbackOptions(options.rollback);
    this.#supervisor =
      options.supervisor ?? new Supervisor({ name: options.name, ...options.supervision });
  }

  /**
   * Compiles the module once in this thread, starts the threads (each instantiates the posted
   * module without recompiling) and resolves once every thread is ready.
   * @throws the bridge's load errors, `ERR_START_TIMEOUT`, `ERR_NAME_TAKEN`, `ERR_INVALID_ARGUMENT`
   */
  static async start(options: WorkerOptions): Promise<Worker> {
    const threads = checkOptions(options);
    rollbackOptions(options.rollback); // before compiling: option errors come first
    const bytes =
      options.wasmFile !== undefined ? readWasmFile(options.wasmFile) : options.wasmBinary!;
    const compiled = compileModule(bytes, { maxMemoryMb: options.maxMemoryMb });
    const worker = new Worker(options, compiled, sha256(bytes), threads);
    if (worker.#name !== undefined) register(worker.#name, worker);
    try {
      worker.#pool = await worker.#startPool(compiled, 0);
      if (options.wasmFile !== undefined && options.watch !== false) {
        await worker.#watch(options.wasmFile);
      }
    } catch (error) {
      if (worker.#name !== undefined) unregister(worker.#name, worker);
      await worker.#pool?.destroy();
      await worker.#watcher?.close();
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
    return this.#version;
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
  callFunction(
    name: string,
    input: BytesInput,
    options?: WorkerCallOptions<'bytes'>,
  ): Promise<Buffer>;
  callFunction<T = unknown>(
    name: string,
    input: CallInput,
    options?: WorkerCallOptions<'json'>,
  ): Promise<T>;
  callFunction(
    name: string,
    input: CallInput,
    options: WorkerCallOptions<'bytes'>,
  ): Promise<Buffer>;
  callFunction(
    name: string,
    input: ImageInput,
    options: WorkerCallOptions<'rgb'>,
  ): Promise<RgbImage>;
  callFunction(
    name: string,
    input: ImageInput,
    options: WorkerCallOptions<'png' | 'jpeg' | 'webp'>,
  ): Promise<Buffer>;
  callFunction<R extends ResultKind>(
    name: string,
    input: CallInput,
    options?: WorkerCallOptions<R>,
  ): Promise<ResultTypes<unknown>[R]>;
  callFunction(name: string, input: CallInput, options: WorkerCallOptions = {}): Promise<unknown> {
    return this.#enqueue(name, { input }, options, false);
  }

  /** Like {@link callFunction}, and also tells which version and thread served the call. */
  callFunctionWithInfo<T = unknown>(
    fn: string,
    input: CallInput,
    options: WorkerCallOptions = {},
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

  /** Host functions and waPC callbacks that threads reach through their host channels. */
  get #mainThreadFunctions(): HostFunctions {
    const { hostFunctions, hostCall, logger } = this.#options;
    const wapc: HostFunctions[string] = {};
    if (hostCall) wapc.hostCall = { fn: hostCall as HostFunction['fn'] };
    wapc.log = {
      fn: (logger ?? ((message: string) => debug('waPC guest: %s', message))) as HostFunction['fn'],
    };
    return { ...hostFunctions, [WAPC_CHANNEL]: wapc };
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
    return describeExports(this.#compiled);
  }

  /** A snapshot of threads, queue and counters. */
  stats(): WorkerStats {
    let running = 0;
    for (const call of this.#inflight) if (this.#started(call)) running++;
    const s = this.#stats;
    const pool = this.#state === 'running' || this.#state === 'stopping' ? this.#pool : undefined;
    return {
      name: this.#name,
      state: this.#state,
      version: this.#version,
      threads: {
        target: this.#threads,
        alive: Math.min(pool?.threadsAlive ?? 0, this.#threads),
        ready: Math.min(pool?.threadsReady ?? 0, this.#threads),
        spare: Math.max(0, (pool?.threadsReady ?? 0) - this.#threads),
      },
      queued: this.#inflight.size - running,
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
    return this.#hash;
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
    return this.#reloads.run(() => this.#reload(bytes));
  }

  async #reload(given: Uint8Array | undefined): Promise<ReloadResult> {
    const started = performance.now();
    const from = this.#version;
    const reject = (message: string, cause?: unknown): never => {
      throw new ReloadRejectedError(`Version ${from} keeps serving: ${message}`, {
        cause,
        details: { version: from, file: this.#options.wasmFile },
      });
    };
    if (this.#state !== 'running') reject(`the worker is ${this.#state}.`);
    let bytes = given;
    if (bytes === undefined) {
      if (this.#options.wasmFile === undefined) {
        reject('reload() without bytes needs a worker started from wasmFile.');
      }
      try {
        bytes = readWasmFile(this.#options.wasmFile!);
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
      compiled = compileModule(bytes!, { maxMemoryMb: this.#options.maxMemoryMb });
    } catch (error) {
      reject(`the new module was rejected: ${(error as Error).message}`, error);
    }
    if (this.#options.requireExports !== false) {
      const missing = missingFunctions(this.#compiled, compiled);
      if (missing.length > 0) {
        reject(
          `the new module lacks functions the running version exports: ${missing.join(', ')}. ` +
            `Pass requireExports: false to allow removing functions.`,
        );
      }
    }
    const previous = { compiled: this.#compiled, hash: this.#hash };
    try {
      await this.#switchVersion(compiled, from + 1);
    } catch (error) {
      reject(`the new version did not start: ${(error as Error).message}`, error);
    }
    if (this.#version !== from + 1) reject(`the worker stopped during the reload.`);
    this.#hash = hash;
    this.#rejectedHash = undefined;
    const rollback = this.#rollback;
    // The version it replaced is the yardstick, if it served enough calls to tell its rate.
    if (this.#health.calls >= (rollback?.minCalls ?? Infinity)) this.#baseline = this.#health;
    this.#health = new FailureRate();
    // The same content again (a touch, a copy) has nothing new to judge.
    this.#rollbackWatch =
      rollback && hash !== previous.hash
        ? new RollbackWatch(from + 1, hash, previous, this.#baseline, rollback)
        : undefined;
    const result = { from, to: from + 1, hash, durationMs: performance.now() - started };
    this.emit('reload', result);
    return result;
  }

  async #watch(file: string): Promise<void> {
    const watcher = new WasmFileWatcher(file, {
      stabilityMs: this.#options.reloadStabilityMs ?? 30,
      debounceMs: this.#options.reloadDebounceMs ?? 10,
    });
    this.#watcher = watcher;
    watcher.on('change', () => {
      this.reload().catch((error: WasmtubeError) => this.emit('reload-error', error));
    });
    watcher.on('error', (error) =>
      this.emit(
        'reload-error',
        new ReloadRejectedError(`Watching ${file} failed: ${(error as Error).message}`, {
          cause: error,
        }),
      ),
    );
    await watcher.whenReady();
  }

  /**
   * Counts a call's outcome for its version (`failed`: a trap, timeout or crash); rolls back a
   * freshly deployed version whose failure rate is clearly above its predecessor's.
   */
  #noteOutcome(version: number, failed: boolean): void {
    if (version === this.#version) this.#health.record(failed);
    const watch = this.#rollbackWatch;
    if (!watch?.record(version, failed)) return;
    this.#rollbackWatch = undefined;
    const { calls, failures } = watch.outcomes;
    debug(
      'version %d failed %d of %d calls (predecessor: %d of %d): rolling back',
      watch.version,
      failures,
      calls,
      watch.baseline.failures,
      watch.baseline.calls,
    );
    this.#reloads
      .run(async () => {
        if (this.#state !== 'running' || this.#version !== watch.version) return;
        await this.#switchVersion(watch.previous.compiled, this.#version + 1);
        this.#hash = watch.previous.hash;
        this.#rejectedHash = watch.hash;
        this.#health = new FailureRate();
        this.emit('rollback', {
          from: watch.version,
          to: this.#version,
          hash: watch.hash,
          restoredHash: watch.previous.hash,
          calls,
          failures,
          baselineRate: watch.baseline.rate,
        });
      })
      .catch((error: unknown) =>
        this.#supervisor.reportCrash(this, { reason: 'rollback failed', error }),
      );
  }

  /** Supervisor hook: replaces every thread (fresh instances), without losing calls. */
  async restart(_reason: string): Promise<void> {
    if (this.#state !== 'running') return;
    // Through the reload queue: a restart and a reload never swap pools at the same time.
    await this.#reloads.run(() => this.#swapPool(this.#compiled, this.#version));
    this.#stats.restarts++;
    this.emit('restart', { reason: 'supervisor', version: this.#version });
  }

  /** Supervisor hook: gives up; pending and later calls reject with `error`. */
  async fail(error: WasmtubeError): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'failed') return;
    this.#state = 'failed';
    this.#failure = error;
    for (const call of this.#inflight) this.#abort(call, 'failed');
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
    return new Promise<T>((resolve, reject) => {
      const call = this.#createCall(
        fn,
        request,
        options,
        withInfo,
        resolve as PendingCall['resolve'],
        reject,
      );
      if (call) this.#submit(call);
    });
  }

  #createCall(
    fn: string,
    request: CallRequest,
    options: WorkerCallOptions,
    withInfo: boolean,
    resolve: PendingCall['resolve'],
    reject: PendingCall['reject'],
  ): PendingCall | undefined {
    try {
      if (this.#state === 'failed') throw this.#failure!;
      if (this.#state !== 'running') {
        throw new WorkerStoppedError(
          `The worker${this.#name ? ` "${this.#name}"` : ''} is ${this.#state} and takes no calls.`,
        );
      }
      if (typeof fn !== 'string' || fn.length === 0) {
        throw new InvalidArgumentError('The function name must be a non-empty string.');
      }
      checkWorkerCall(request, options);
      const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
      const queueTimeoutMs = options.queueTimeoutMs ?? this.#options.queueTimeoutMs;
      const retry = options.retry ?? 0;
      checkMs('timeoutMs', timeoutMs);
      checkMs('queueTimeoutMs', queueTimeoutMs);
      if (!Number.isInteger(retry) || retry < 0) {
        throw new InvalidArgumentError(
          `options.retry must be a non-negative integer, got ${retry}.`,
        );
      }
      const signal = options.signal;
      if (signal?.aborted) {
        throw new AbortError('The call was aborted before it ran.', { cause: signal.reason });
      }
      if (this.#inflight.size - this.#threads >= this.#options.maxQueue) {
        throw new QueueFullError(
          `${this.#inflight.size - this.#threads} calls are already waiting (maxQueue is ` +
            `${this.#options.maxQueue}). Retry later, add threads or raise maxQueue.`,
          { details: { maxQueue: this.#options.maxQueue } },
        );
      }
      const payload = 'input' in request ? encodeInput(request.input, options.returns) : undefined;
      const resultBuffer = checkResultBuffer(options.resultBuffer, payload?.returns);
      if ('typed' in request && !Array.isArray(request.typed.args)) {
        throw new InvalidArgumentError('call() takes its arguments as an array.');
      }
      const call: PendingCall = {
        fn,
        input: payload?.input,
        returns: payload?.returns,
        resultBuffer,
        typed: 'typed' in request ? request.typed : undefined,
        run: 'run' in request ? request.run : undefined,
        timeoutMs,
        queueTimeoutMs,
        retriesLeft: retry,
        createdAt: epochNow(),
        attempts: 0,
        link: undefined,
        slot: -1,
        threadId: 0,
        abortReason: undefined,
        userSignal: signal,
        onUserAbort: undefined,
        resolve,
        reject,
        withInfo,
      };
      if (signal) {
        call.onUserAbort = () => this.#abort(call, 'user');
        signal.addEventListener('abort', call.onUserAbort, { once: true });
      }
      this.#inflight.add(call);
      if (call.queueTimeoutMs > 0) this.#queueTimeouts++;
      this.#startWatchdog();
      return call;
    } catch (error) {
      this.#stats.failedWith((error as WasmtubeError).code ?? 'ERR_UNKNOWN', 0);
      reject(error);
      return undefined;
    }
  }

  #submit(call: PendingCall, front = false): void {
    call.abortReason = undefined;
    if (front) this.#queue.unshift(call);
    else this.#queue.push(call);
    this.#pump();
  }

  /** Posts queued calls to the least loaded threads of the current pool that have room. */
  #pump(): void {
    while (this.#queue.length > 0) {
      const link = this.#leastLoaded();
      if (!link) return;
      const call = this.#queue.shift()!;
      call.attempts++;
      call.threadId = link.threadId;
      const { task, transfer } = toTask(call);
      link.post(call, task, transfer);
    }
  }

  /** The least loaded thread with room, among the threads calls go to now (DispatchWidth). */
  #leastLoaded(): ThreadLink<PendingCall> | undefined {
    let best: ThreadLink<PendingCall> | undefined;
    let width = this.#width.width;
    for (const link of this.#activeLinks()) {
      if (width-- === 0) break;
      if (link.capacity === 0) continue;
      if (!best || link.load < best.load) best = link;
    }
    return best;
  }

  /** The current pool's serving threads: the first `threads` to start; the rest are spares. */
  *#activeLinks(): Generator<ThreadLink<PendingCall>> {
    let active = 0;
    for (const link of this.#links.values()) {
      if (link.pool !== this.#pool || !link.serving) continue;
      if (active++ >= this.#threads) return;
      yield link;
    }
  }

  /**
   * A thread that ran out of work takes a call another thread has not started yet, so one slow
   * call does not hold up the calls pipelined behind it while a thread is idle.
   */
  #rebalance(idle: ThreadLink<PendingCall>): void {
    if (this.#queue.length > 0 || idle.load > 0) return;
    const index = [...this.#activeLinks()].indexOf(idle);
    if (index < 0) return;
    // A thread outside the dispatch width steals only from a thread stuck on a call: one
    // preempted for a moment on a busy machine is no reason to wake it.
    const after = index < this.#width.width ? STEAL_AFTER_MS : WIDEN_AFTER_MS;
    // Take the calls waiting behind another thread's call that has been running a while, oldest
    // first. Behind short calls they are better left where they are: moving costs a message.
    const waiting: PendingCall[] = [];
    const now = epochNow();
    for (const link of this.#links.values()) {
      if (link === idle || link.load < 2 || !this.#busyFor(link, now, after)) continue;
      for (const call of link.calls()) {
        if (!this.#started(call)) waiting.push(call);
      }
    }
    waiting.sort((x, y) => x.createdAt - y.createdAt);
    for (const call of waiting) {
      if (idle.capacity === 0) break;
      if (!call.link?.withdraw(call)) continue;
      const { task, transfer } = toTask(call);
      call.attempts++;
      call.threadId = idle.threadId;
      idle.post(call, task, transfer);
    }
  }

  /** The link's thread has been running its current call for more than `ms`. */
  #busyFor(link: ThreadLink<PendingCall>, now: number, ms: number): boolean {
    for (const call of link.calls()) {
      if (link.slots.state(call.slot) === SlotState.Running) {
        return now - link.slots.startedAt(call.slot) > ms;
      }
    }
    return false;
  }

  /** The call has started (or finished) on its thread. */
  #started(call: PendingCall): boolean {
    if (!call.link) return false;
    const state = call.link.slots.state(call.slot);
    return state === SlotState.Running || state === SlotState.Done || state === SlotState.Killed;
  }

  #onResponse(call: PendingCall, response: ThreadResponse, link: ThreadLink<PendingCall>): void {
    this.#handleResponse(call, response);
    this.#rebalance(link);
    this.#pump();
  }

  #handleResponse(call: PendingCall, response: ThreadResponse): void {
    const { info } = response;
    this.#width.observe(info.finishedAt - info.startedAt);
    if (response.ok) {
      this.#noteOutcome(info.version, false);
      const result = revive(response.value, call.returns, call.resultBuffer);
      this.#settle(
        call,
        undefined,
        call.withInfo ? { result, info: callInfo(call, info) } : result,
      );
      return;
    }
    const error = deserializeError(response.error);
    const trapped = error.code === 'ERR_GUEST_TRAP' || error.code === 'ERR_MEMORY_LIMIT';
    this.#noteOutcome(info.version, trapped);
    if (trapped) {
      this.#stats.traps++;
      this.emit('trap', { fn: call.fn, error, threadId: info.threadId });
    }
    this.#settle(call, error);
  }

  /**
   * The thread a call was posted to is gone, and its reply with it. A call the thread had not
   * started goes to another thread; one it was running fails (or, with `retry`, runs again on
   * a fresh thread). One it had finished (its thread died before the reply left) fails too:
   * running it again could repeat its effects.
   */
  #onCallLost(call: PendingCall, state: SlotState, exitCode: number): void {
    const reason = call.abortReason;
    const active = this.#state === 'running' || this.#state === 'stopping';
    const started = state !== SlotState.Queued;
    if (!started && (reason === undefined || reason === 'requeue') && active) {
      return this.#submit(call, true);
    }
    const unfinished = state === SlotState.Running || state === SlotState.Killed;
    if (unfinished && reason === undefined && call.retriesLeft > 0 && this.#state === 'running') {
      call.retriesLeft--;
      return this.#submit(call, true);
    }
    const cause = new Error(`worker thread exited with code: ${exitCode}`);
    this.#settle(call, this.#rejectionError(call, reason, started, cause));
  }

  #rejectionError(
    call: PendingCall,
    reason: PendingCall['abortReason'],
    started: boolean,
    cause: unknown,
  ): WasmtubeError {
    const details = { fn: call.fn, threadId: call.threadId || undefined };
    switch (reason) {
      case 'timeout':
        return new CallTimeoutError(
          `${call.fn} ran longer than ${call.timeoutMs} ms, so its thread was terminated and ` +
            `replaced. Raise timeoutMs if the work is legitimately slow.`,
          { details: { ...details, timeoutMs: call.timeoutMs } },
        );
      case 'queue-timeout':
        return new QueueTimeoutError(
          `${call.fn} waited longer than ${call.queueTimeoutMs} ms for a thread and was not run. ` +
            `Add threads, lower the load, or raise queueTimeoutMs.`,
          { details: { ...details, queueTimeoutMs: call.queueTimeoutMs } },
        );
      case 'user':
        return new AbortError(
          started
            ? `${call.fn} was aborted while running; its thread was terminated and replaced.`
            : `${call.fn} was aborted before it ran.`,
          { cause: call.userSignal?.reason, details },
        );
      case 'failed':
        return this.#failure!;
      case 'stopped':
      case 'requeue':
        return new WorkerStoppedError(
          `The worker stopped before ${call.fn} finished (stop's timeoutMs ran out).`,
          { details },
        );
      default:
        return new WorkerExitedError(
          `The thread running ${call.fn} died (${(cause as Error)?.message ?? String(cause)}); ` +
            `it was replaced. Pass retry: n for idempotent calls to run them again.`,
          { cause, details },
        );
    }
  }

  #settle(call: PendingCall, error: unknown, value?: unknown): void {
    if (!this.#inflight.delete(call)) return;
    if (call.onUserAbort) call.userSignal!.removeEventListener('abort', call.onUserAbort);
    const latency = epochNow() - call.createdAt;
    if (error === undefined) {
      this.#stats.succeeded(latency);
      call.resolve(value);
    } else {
      this.#stats.failedWith((error as WasmtubeError).code ?? 'ERR_UNKNOWN', latency);
      call.reject(error);
    }
    if (call.queueTimeoutMs > 0) this.#queueTimeouts--;
    for (const pool of this.#retiring) this.#maybeRetire(pool);
    if (this.#inflight.size === 0) {
      this.#stopWatchdog();
      this.emit('drain');
    }
  }

  #queueRemove(call: PendingCall): boolean {
    const index = this.#queue.indexOf(call);
    if (index === -1) return false;
    this.#queue.splice(index, 1);
    return true;
  }

  /**
   * Stops a call for `reason`. Queued here or not started on its thread: it is withdrawn and
   * settles now (or, for `requeue`, goes back to the front of the queue). Running: only
   * terminating its thread stops a wasm call; it settles when the thread's exit is seen. Already
   * finished on its thread: nothing happens, its result is on its way. True if it took effect.
   */
  #abort(call: PendingCall, reason: NonNullable<PendingCall['abortReason']>): boolean {
    if (call.abortReason !== undefined || !this.#inflight.has(call)) return false;
    const link = call.link;
    const withdrawn = link ? link.withdraw(call) : this.#queueRemove(call);
    if (withdrawn) {
      if (reason === 'requeue') {
        this.#submit(call, true);
      } else {
        call.abortReason = reason;
        this.#settle(call, this.#rejectionError(call, reason, false, undefined));
      }
      return true;
    }
    if (!link || reason === 'requeue' || reason === 'queue-timeout') return false; // running: let it be
    // Claimed atomically against the thread finishing it: a finished call's thread is left alone.
    if (!link.kill(call)) return false;
    call.abortReason = reason;
    this.#expectedExits.set(link.threadId, reason === 'timeout' ? 'timeout' : 'abort');
    link.pool.terminate(link.threadId);
    return true;
  }

  // ---- watchdog: timeouts, thread health ----

  #startWatchdog(): void {
    this.#watchdog ??= setInterval(() => this.#tick(), WATCHDOG_MS).unref();
  }

  #stopWatchdog(): void {
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
  }

  #tick(): void {
    const now = epochNow();
    for (const link of this.#links.values()) {
      for (const call of link.calls()) {
        if (call.abortReason !== undefined) continue;
        const state = link.slots.state(call.slot);
        if (state === SlotState.Queued) this.#checkQueueTimeout(call, now);
        else if (
          state === SlotState.Running &&
          call.timeoutMs > 0 &&
          now - link.slots.startedAt(call.slot) > call.timeoutMs &&
          this.#abort(call, 'timeout')
        ) {
          this.#noteOutcome(link.version, true);
          this.#stats.timeouts++;
          this.emit('timeout', { fn: call.fn, timeoutMs: call.timeoutMs, threadId: link.threadId });
        }
      }
    }
    // A thread that went idle before its neighbour's call had run long enough to take work from.
    for (const link of this.#activeLinks()) if (link.load === 0) this.#rebalance(link);
    this.#widenIfStuck(now);
    // Only calls with a queue timeout need looking at in the (possibly long) queue.
    if (this.#queueTimeouts > 0) {
      for (const call of [...this.#queue]) this.#checkQueueTimeout(call, now);
    }
    this.#checkThreads(now);
  }

  /** While calls go to fewer threads, one stuck on a long call lets the others take calls. */
  #widenIfStuck(now: number): void {
    const narrow = this.#width.narrow;
    if (narrow >= this.#threads) return;
    let stuck = false;
    let index = 0;
    for (const link of this.#activeLinks()) {
      if (index++ === narrow) break;
      if (this.#busyFor(link, now, WIDEN_AFTER_MS)) stuck = true;
    }
    if (this.#width.setStuck(stuck)) this.#pump();
  }

  #checkQueueTimeout(call: PendingCall, now: number): void {
    if (call.queueTimeoutMs > 0 && now - call.createdAt > call.queueTimeoutMs) {
      this.#abort(call, 'queue-timeout');
    }
  }

  /**
   * piscina replaces a thread that dies, except one that dies while starting: then it stops
   * replacing threads at all. Seeing the pool short of threads for longer than a start may take,
   * report a crash and replace the whole pool.
   */
  #checkThreads(now: number): void {
    const pool = this.#pool;
    pool.trackThreads();
    if (this.#state !== 'running' || this.#recovering || pool.threadsAlive >= pool.threads) {
      this.#degradedSince = undefined;
      return;
    }
    this.#degradedSince ??= now;
    if (now - this.#degradedSince < this.#options.startTimeoutMs) return;
    this.#degradedSince = undefined;
    this.#recovering = true;
    this.#supervisor.reportCrash(this, { reason: 'threads failed to start' });
    this.#reloads
      .run(() => this.#swapPool(this.#compiled, this.#version))
      .catch((error) => this.#supervisor.reportCrash(this, { reason: 'restart failed', error }))
      .finally(() => (this.#recovering = false));
  }

  // ---- pools ----

  async #startPool(compiled: CompiledModule, version: number): Promise<ThreadPool> {
    const options = this.#options;
    const data: ThreadData = {
      compiled,
      version,
      resultHeadroomBytes: options.resultHeadroomBytes,
      maxImagePixels: options.maxImagePixels,
      importsModule: moduleSpecifier(options.importsModule),
      recycle: {
        maxCallsPerInstance: options.maxCallsPerInstance,
        maxInstanceAgeMs: options.maxInstanceAgeMs,
        maxMemoryBytes: options.recycleMemoryMb * 1024 * 1024,
      },
      slots: options.pipelineDepth,
      spinUs: options.spinUs,
      probe: this.#probe,
      wasi: options.wasi,
      abi: options.abi,
      hostModule: moduleSpecifier(options.hostModule),
      remoteHost: options.hostFunctions && hostSignatures(options.hostFunctions),
      remoteWapc: options.hostCall !== undefined || options.logger !== undefined,
    };
    const pool = new ThreadPool({
      data,
      threads: this.#threads + options.spareThreads,
      startTimeoutMs: options.startTimeoutMs,
      resourceLimits: options.resourceLimits,
    });
    pool.on('thread-exit', (threadId, exitCode) => this.#onThreadExit(pool, threadId, exitCode));
    pool.on('call-channel', (threadId, version, port, slots) => {
      const link = new ThreadLink<PendingCall>(
        pool,
        threadId,
        version,
        port,
        slots,
        (call, response) => this.#onResponse(call, response, link),
        (call, error) =>
          this.#settle(
            call,
            new InvalidArgumentError(
              `The input of ${call.fn} could not be sent to a thread (${error.message}). ` +
                `Pass plain data: JSON values, Uint8Arrays, numbers and strings.`,
              { cause: error, details: { fn: call.fn } },
            ),
          ),
      );
      this.#links.set(threadId, link);
      // It started before its pool switched versions in place: it switches before serving.
      if (version !== pool.version && pool === this.#pool) this.#catchUp(link);
      this.#pump();
    });
    pool.on('host-channel', (port, buffer) =>
      serveHostChannel(port, buffer, this.#mainThreadFunctions),
    );
    pool.on('thread-error', () => undefined); // its exit is reported and handled as a crash
    try {
      // Spares finish starting while the pool already serves.
      await pool.whenReady(options.startTimeoutMs, this.#threads);
    } catch (error) {
      await pool.destroy();
      throw error;
    }
    return pool;
  }

  /** Serves a new version: in the running threads if they switch in time, else on new threads. */
  async #switchVersion(compiled: CompiledModule, version: number): Promise<void> {
    if (!(await this.#swapInPlace(compiled, version))) await this.#swapPool(compiled, version);
  }

  /**
   * Has every thread of the current pool instantiate (and probe) the new version next to the
   * serving one, then switch between calls: no new threads, so a reload takes milliseconds, not
   * a thread start. Calls not started yet, already posted or not, run on the new version.
   * Resolves false (nothing changed) when a thread did not answer within IN_PLACE_WAIT_MS, busy
   * with a long call, or exited before answering: then the pools are swapped instead. Rejects with the new version's error.
   */
  async #swapInPlace(compiled: CompiledModule, version: number): Promise<boolean> {
    const pool = this.#pool;
    const links = [...this.#links.values()].filter((link) => link.pool === pool);
    if (links.length === 0) return false;
    const id = ++this.#swapIds;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), IN_PLACE_WAIT_MS);
    });
    let outcome: 'late' | boolean[];
    try {
      outcome = await Promise.race([
        Promise.all(links.map((link) => link.prepare(id, compiled, version))),
        late,
      ]);
    } catch (error) {
      for (const link of links) link.abort(id);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (this.#state !== 'running' || this.#pool !== pool) {
      for (const link of links) link.abort(id);
      return true; // nothing left to switch: the reload sees its version did not come
    }
    // A thread that exited while preparing proved nothing (its probe may never have run): if
    // any did, new threads must each instantiate and probe the version instead.
    if (outcome === 'late' || outcome.includes(false)) {
      for (const link of links) link.abort(id);
      return false;
    }
    // Threads that exited meanwhile are replaced by threads starting with the new version.
    pool.setModule(compiled, version);
    for (const link of links) link.commit(id, version);
    this.#compiled = compiled;
    this.#version = version;
    // Threads that finished starting during the prepare step have the previous version.
    for (const link of this.#links.values()) {
      if (link.pool === pool && link.version !== version && !links.includes(link)) {
        this.#catchUp(link);
      }
    }
    debug('version %d serving in place on %d threads', version, links.length);
    return true;
  }

  /**
   * Switches a thread that started with an earlier version of its pool to the current one, the
   * way a reload switches running threads; it takes no calls until then. (Terminating it would
   * not do: piscina stops replacing threads once one dies while starting.)
   */
  #catchUp(link: ThreadLink<PendingCall>): void {
    const { pool } = link;
    const version = pool.version;
    const id = ++this.#swapIds;
    debug(
      'thread %d started with version %d: switching to %d',
      link.threadId,
      link.version,
      version,
    );
    link.serving = false;
    link.prepare(id, this.#compiled, version).then(
      (open) => {
        if (!open) return;
        if (pool.version !== version) {
          link.abort(id);
          this.#catchUp(link); // another version came meanwhile
          return;
        }
        link.commit(id, version);
        link.serving = true;
        this.#pump();
      },
      (error: unknown) => {
        debug('thread %d could not switch to version %d: %s', link.threadId, version, error);
        link.abort(id);
        this.#expectedExits.set(link.threadId, 'reload');
        pool.terminate(link.threadId);
      },
    );
  }

  /** Brings up a new pool, routes new calls to it, re-queues calls not started on the old one. */
  async #swapPool(compiled: CompiledModule, version: number): Promise<void> {
    const next = await this.#startPool(compiled, version);
    if (this.#state !== 'running') {
      await next.destroy();
      return;
    }
    const old = this.#pool;
    this.#pool = next;
    this.#compiled = compiled;
    this.#version = version;
    this.#retiring.add(old);
    for (const call of this.#inflight) {
      if (call.link?.pool === old && !this.#started(call)) this.#abort(call, 'requeue');
    }
    this.#maybeRetire(old);
    this.#pump();
  }

  #maybeRetire(pool: ThreadPool): void {
    // Scans threads, not calls: this runs as each call settles while a reload drains.
    for (const link of this.#links.values()) if (link.pool === pool && link.load > 0) return;
    this.#retiring.delete(pool);
    this.#closeLinks(pool);
    void pool.destroy();
  }

  /** Closes the call channels of a pool whose threads are being terminated. */
  #closeLinks(pool: ThreadPool): PendingCall[] {
    const lost: PendingCall[] = [];
    for (const [threadId, link] of this.#links) {
      if (link.pool !== pool) continue;
      this.#links.delete(threadId);
      lost.push(...link.close());
    }
    return lost;
  }

  #onThreadExit(pool: ThreadPool, threadId: number, exitCode: number): void {
    const planned = this.#expectedExits.get(threadId);
    this.#expectedExits.delete(threadId);
    const link = this.#links.get(threadId);
    this.#links.delete(threadId);
    if (link) {
      const lost = link.close().map((call) => ({ call, state: link.slots.state(call.slot) }));
      for (const { call, state } of lost) this.#onCallLost(call, state, exitCode);
    }
    const retired = pool !== this.#pool || this.#state !== 'running';
    this.emit('exit', { threadId, exitCode, expected: planned !== undefined || retired });
    if (retired) return;
    this.#stats.restarts++;
    const reason: RestartReason = planned ?? 'crash';
    this.emit('restart', { reason, threadId, exitCode, version: pool.version });
    if (reason === 'crash') {
      this.#noteOutcome(link?.version ?? pool.version, true);
      this.#supervisor.reportCrash(this, {
        reason: `thread exited with code ${exitCode}`,
        threadId,
        exitCode,
      });
    }
  }

  async #stop(timeoutMs: number): Promise<void> {
    if (this.#state === 'running') this.#state = 'stopping';
    if (this.#inflight.size > 0 && this.#state === 'stopping') {
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
    for (const call of this.#inflight) this.#abort(call, 'stopped');
    if (this.#state === 'stopping') this.#state = 'stopped';
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#stopWatchdog();
    await this.#watcher?.close();
    if (this.#name !== undefined) unregister(this.#name, this);
    this.#supervisor.remove(this);
    const pools = [this.#pool, ...this.#retiring].filter((pool) => pool !== undefined);
    this.#retiring.clear();
    // Calls still on these threads end with them: say why, as the thread exits go unreported.
    for (const pool of pools) {
      for (const call of this.#closeLinks(pool)) {
        this.#settle(
          call,
          this.#rejectionError(call, call.abortReason ?? 'stopped', true, undefined),
        );
      }
    }
    for (const call of this.#queue.splice(0)) {
      this.#settle(
        call,
        this.#rejectionError(call, call.abortReason ?? 'stopped', false, undefined),
      );
    }
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function callInfo(call: PendingCall, info: ThreadResponse['info']): CallInfo {
  return {
    version: info.version,
    threadId: info.threadId,
    queuedMs: Math.max(0, info.startedAt - call.createdAt),
    runMs: info.finishedAt - info.startedAt,
    startedAt: info.startedAt,
    finishedAt: info.finishedAt,
    attempts: call.attempts,
    ...(info.stdout !== undefined && { stdout: info.stdout }),
    ...(info.stderr !== undefined && { stderr: info.stderr }),
  };
}
