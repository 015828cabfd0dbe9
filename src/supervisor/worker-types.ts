/** The public types of `Worker`: options, per-call options, results, stats and events. */
import type { ResourceLimits } from 'node:worker_threads';
import type { WapcHostCall } from '../bridge/abi-wapc.js';
import type { Abi } from '../bridge/conventions.js';
import type { Isolation } from '../bridge/compiled-module.js';
import type { HostFunctions } from '../bridge/host-functions.js';
import type { WasiOptions } from '../bridge/wasi.js';
import type { WasmtubeError } from '../errors.js';
import type { CallInput, CallOptions, ResultKind } from '../types.js';
import type { LatencySummary } from './call-stats.js';
import type { RollbackOptions } from './reload-policy.js';
import type { Supervisor, SupervisorOptions } from './supervisor.js';

/** Options for {@link Worker.start}. Exactly one of `wasmFile` and `wasmBinary`. */
export interface WorkerOptions {
  /** Path of the .wasm file. */
  wasmFile?: string;
  /** Module bytes. */
  wasmBinary?: Uint8Array;
  /** Registers the worker under this name (see {@link Worker.whereis}). Default: unnamed. */
  name?: string;
  /**
   * Threads, each with one instance: a fixed pool (shorthand for minThreads = maxThreads).
   * Default: `os.availableParallelism()` when no minThreads/maxThreads are given either.
   */
  threads?: number;
  /**
   * Threads kept at rest; `0` scales to zero (the module stays compiled, the first call starts
   * a thread). Default: `threads`, else 1 when only maxThreads is given.
   */
  minThreads?: number;
  /**
   * Most threads: the pool grows toward it while calls wait for a thread. Default: `threads`,
   * else `os.availableParallelism()` (at least minThreads).
   */
  maxThreads?: number;
  /** A thread above minThreads that served no call this long exits. Default: 30000. */
  idleTimeoutMs?: number;
  /**
   * Longest a call may run in its thread, not counting time queued; past it the call rejects
   * with `ERR_CALL_TIMEOUT` and its thread is terminated and replaced. `0` disables.
   * Default: 30000.
   */
  timeoutMs?: number;
  /** Longest a call may wait for a thread; past it it rejects with `ERR_QUEUE_TIMEOUT`. `0` (default) disables. */
  queueTimeoutMs?: number;
  /** Longest threads may take to instantiate the module (start function included). Default: 10000. */
  startTimeoutMs?: number;
  /** Cap on each instance's linear memory, enforced by the engine (see `Wasmtube`). Default: none. */
  maxMemoryMb?: number;
  /**
   * `'call'`: every call starts from the state its thread's instance had when it became ready
   * (memory and mutable globals restored after each call; see `WasmtubeOptions.isolation`).
   * `'instance'`: guest state persists across the calls a thread serves. Default: `'instance'`.
   */
  isolation?: Isolation;
  /** Calls that may wait beyond those running; one more rejects with `ERR_QUEUE_FULL`. Default: Infinity. */
  maxQueue?: number;
  /** A thread replaces its instance after this many calls. Default: Infinity. */
  maxCallsPerInstance?: number;
  /** A thread replaces its instance once it is this old (checked between calls). Default: Infinity. */
  maxInstanceAgeMs?: number;
  /** A thread replaces its instance when a call leaves its memory above this size. Default: Infinity. */
  recycleMemoryMb?: number;
  /** See `WasmtubeOptions.resultHeadroomBytes`. Default: 1 MiB. */
  resultHeadroomBytes?: number;
  /** See `WasmtubeOptions.maxImagePixels`: encoded images larger are refused undecoded. Default: 40 MP. */
  maxImagePixels?: number;
  /**
   * Path or URL of an ES module, imported in every thread, whose default export is the guest's
   * WebAssembly imports object or a function returning it. Default: no imports.
   */
  importsModule?: string | URL;
  /** WASI preview 1 for the guest, as for `Wasmtube`; nothing granted by default. Default: no WASI. */
  wasi?: WasiOptions;
  /** As for `Wasmtube`. Default: `'auto'`. */
  abi?: Abi;
  /**
   * Host functions that run on the main thread (closures over application state: an audit log,
   * a database); they may be async — the guest's thread waits for the result. A call's
   * `timeoutMs` still applies. Default: none.
   */
  hostFunctions?: HostFunctions;
  /**
   * Path or URL of a module imported in every thread whose `hostFunctions` export (or default)
   * grants synchronous host functions that run in the thread itself: fast and parallel.
   */
  hostModule?: string | URL;
  /**
   * waPC guests: answers their `__host_call`s on the main thread; may be async (the guest's
   * thread waits). Default: host calls fail with "no host callback".
   */
  hostCall?: WapcHostCall;
  /** waPC guests: receives `__console_log` lines, on the main thread. Default: debug output. */
  logger?: (message: string) => void;
  /**
   * Calls posted to a thread at once, so it goes from one to the next without waiting for the
   * main thread. Idle threads get calls first; a call not started yet moves to a thread that
   * frees up. Default: 32.
   */
  pipelineDepth?: number;
  /**
   * How long an idle thread keeps polling for the next call before it sleeps, in microseconds.
   * Waking a sleeping thread costs tens of microseconds. `0` disables. Default: 100.
   */
  spinUs?: number;
  /**
   * Idle threads kept ready (module instantiated) to take over at once from a thread that dies
   * or is terminated for a timeout, while a replacement starts. Default: 1.
   */
  spareThreads?: number;
  /** V8 heap limits for each thread (JavaScript heap; wasm memory is capped by `maxMemoryMb`). */
  resourceLimits?: ResourceLimits;
  /** The supervisor owning this worker. Default: a new one-for-one supervisor of its own. */
  supervisor?: Supervisor;
  /** Options for that default supervisor (ignored when `supervisor` is given). */
  supervision?: SupervisorOptions;
  /**
   * Hot-reload when `wasmFile` changes (overwrite, copy, rename over it, touch, re-create).
   * Default: true for `wasmFile`, false for `wasmBinary`.
   */
  watch?: boolean;
  /** A changed file must keep its size this long before it is read. Default: 30 ms. */
  reloadStabilityMs?: number;
  /** File events closer together than this are one deploy. Default: 10 ms. */
  reloadDebounceMs?: number;
  /**
   * A call that must succeed on every new instance before it takes traffic, at start and on each
   * reload (PM2's `wait_ready`). The instance is reset after it. Default: none.
   */
  probe?: { fn: string; input?: CallInput };
  /** Reject a new version that lacks a function the running version exports. Default: true. */
  requireExports?: boolean;
  /** Roll a new version back when it fails soon after deploy; `false` disables. Default: `{}`. */
  rollback?: RollbackOptions | false;
}

/** What a successful reload did. */
export interface ReloadResult {
  /** Version before and after. */
  from: number;
  to: number;
  /** sha256 of the new module bytes, hex. */
  hash: string;
  /** From reading the bytes to new calls going to the new threads, in ms. */
  durationMs: number;
}

/** Per-call options of a {@link Worker}. */
export interface WorkerCallOptions<R extends ResultKind = ResultKind> extends CallOptions<R> {
  /** Overrides the worker's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Overrides the worker's `queueTimeoutMs` for this call. */
  queueTimeoutMs?: number;
  /**
   * For idempotent calls: how many times to run the call again, on a fresh thread, when the
   * thread running it dies. Default: 0 (the call rejects with `ERR_WORKER_EXITED`).
   */
  retry?: number;
}

/** Facts about one call, from {@link Worker.callFunctionWithInfo}. */
export interface CallInfo {
  /** Module version that served the call. */
  version: number;
  threadId: number;
  /** Time spent waiting for a thread, in ms. */
  queuedMs: number;
  /** Time spent running in the thread, in ms. */
  runMs: number;
  /** Start and end in the thread, ms since the epoch (comparable across threads). */
  startedAt: number;
  finishedAt: number;
  /** How many times the call was sent to a thread (more than 1 after a retry or re-queue). */
  attempts: number;
  /** What a WASI guest wrote, when `wasi.stdout` / `wasi.stderr` is `'capture'`. */
  stdout?: string;
  stderr?: string;
}

/** Lifecycle states; see docs/lifecycle.md. */
export type WorkerState = 'running' | 'stopping' | 'stopped' | 'failed';

/** A snapshot of a worker, from {@link Worker.stats}. */
export interface WorkerStats {
  name: string | undefined;
  state: WorkerState;
  version: number;
  /** Threads serving calls (`ready` of `target`), and warm spares ready to replace one. */
  threads: ThreadStatus;
  queued: number;
  running: number;
  completed: number;
  failed: number;
  failedByCode: Record<string, number>;
  restarts: number;
  timeouts: number;
  traps: number;
  latencyMs: LatencySummary;
}

/**
 * Why a thread was replaced. `reload`: it was still starting with the previous version when the
 * running threads switched to a new one in place, and could not switch to it.
 */
export type RestartReason = 'crash' | 'timeout' | 'abort' | 'supervisor' | 'reload';

/** A worker's threads: serving now (`target`, from `min` to `max`), alive, ready, spares. */
export interface ThreadStatus {
  target: number;
  min: number;
  max: number;
  alive: number;
  ready: number;
  spare: number;
}

/** Events of a {@link Worker}. */
export interface WorkerEvents {
  /** A thread was replaced, or (reason `supervisor`) all of them. */
  restart: [
    event: { reason: RestartReason; threadId?: number; exitCode?: number; version: number },
  ];
  /** A call trapped (or ran out of memory); its thread's instance was reset. */
  trap: [event: { fn: string; error: WasmtubeError; threadId: number }];
  /** A call ran past its timeout; its thread is being replaced. */
  timeout: [event: { fn: string; timeoutMs: number; threadId: number }];
  /** A thread exited. `expected` is false for crashes. */
  exit: [event: { threadId: number; exitCode: number; expected: boolean }];
  /** The supervisor gave up on this worker; calls reject with `ERR_RESTART_INTENSITY`. */
  failure: [error: WasmtubeError];
  /** No call is queued or running any more. */
  drain: [];
  /** A new version took traffic. */
  reload: [event: ReloadResult];
  /** A deploy was not loaded (`ERR_RELOAD_REJECTED`); the running version keeps serving. */
  'reload-error': [error: WasmtubeError];
  /** A new version failed too often and the previous content was restored as version `to`. */
  /**
   * A new version failed clearly more often than its predecessor and was replaced by it:
   * `calls` and `failures` of the new version, and `baselineRate`, its predecessor's rate.
   */
  rollback: [
    event: {
      from: number;
      to: number;
      hash: string;
      restoredHash: string;
      calls: number;
      failures: number;
      baselineRate: number;
    },
  ];
}
