import { EventEmitter } from 'node:events';
import type { MessagePort, ResourceLimits, Worker as NodeWorker } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { deserializeError, StartTimeoutError, type WasmtubeError } from '../errors.js';
import { isThreadStatus, type ThreadData } from '../protocol/messages.js';
import { blankThreads } from './blank-threads.js';
import { piscinaOfOne } from './piscina-of-one.js';

/** Options of one pool generation. */
export interface ThreadPoolOptions {
  data: ThreadData;
  threads: number;
  startTimeoutMs: number;
  resourceLimits: ResourceLimits | undefined;
}

/** Events of a {@link ThreadPool}. */
export interface ThreadPoolEvents {
  'thread-ready': [threadId: number];
  /** A thread is ready to take calls on its call channel. */
  'call-channel': [threadId: number, version: number, port: MessagePort, slots: SharedArrayBuffer];
  /** A thread opened a channel for main-thread host functions. */
  'host-channel': [port: MessagePort, buffer: SharedArrayBuffer];
  'thread-exit': [threadId: number, exitCode: number];
  /** A thread could not instantiate the module (its exit follows). */
  'start-failed': [threadId: number, error: WasmtubeError];
  'thread-error': [error: unknown];
}

/**
 * One generation of threads serving one compiled module version, on piscina. Every thread holds
 * one instance; piscina starts the threads and replaces one that dies. Calls do not go through
 * piscina's task queue but over each thread's own call channel (see ThreadLink), which lets the
 * supervisor pipeline calls, time them from their start and move those not started. This class
 * reports when every thread has instantiated, each thread's channels, which thread exited with
 * which code, and terminates a given thread.
 */
export class ThreadPool extends EventEmitter<ThreadPoolEvents> {
  /** The module version this pool's threads serve, and new threads start with. */
  version: number;
  readonly #data: ThreadData;
  readonly #startTimeoutMs: number;
  readonly #resourceLimits: ResourceLimits | undefined;
  /**
   * One piscina of one thread per thread: piscina replaces a thread that dies, and the pool
   * grows and shrinks by whole piscinas (piscina's own scaling follows its task queue, which
   * calls do not use).
   */
  readonly #piscinas = new Set<Piscina>();
  /**
   * Each piscina's workerData (what a thread it starts, or a replacement, instantiates): kept
   * per piscina, as a claimed blank thread brings its own object.
   */
  readonly #workerData = new Map<Piscina, Record<string, unknown>>();
  readonly #tracked = new WeakSet<NodeWorker>();
  readonly #ready = new Set<number>();
  /** Threads being terminated, until their exit. */
  readonly #terminating = new Set<number>();
  #startup: { resolve: () => void; reject: (error: WasmtubeError) => void } | undefined;
  #destroyed = false;
  #needed = Infinity;

  constructor(options: ThreadPoolOptions) {
    super();
    this.version = options.data.version;
    this.#data = options.data;
    this.#startTimeoutMs = options.startTimeoutMs;
    this.#resourceLimits = options.resourceLimits;
    for (let i = 0; i < options.threads; i++) this.grow();
  }

  /** Threads this pool keeps alive (it replaces one that dies). */
  get threads(): number {
    return this.#piscinas.size;
  }

  /**
   * Starts one more thread, kept alive like the others until {@link shrink}: a blank thread
   * from the process-wide reservoir told to instantiate the module (≈1 ms), or, if there is none
   * or this pool's threads need their own `resourceLimits`, a thread booted for it (≈40 ms).
   */
  grow(): void {
    if (this.#destroyed) return;
    const claimed = this.#resourceLimits ? undefined : blankThreads.claim();
    const workerData = claimed?.workerData ?? {};
    // Replacements of a claimed thread start on the module, not blank.
    if (claimed) delete workerData.wasmtubeBlank;
    Object.assign(workerData, this.#data);
    const piscina = claimed?.piscina ?? piscinaOfOne(workerData, this.#resourceLimits);
    this.#piscinas.add(piscina);
    this.#workerData.set(piscina, workerData);
    piscina.on('message', (message: unknown) => this.#onStatus(message));
    piscina.on('workerCreate', () => this.trackThreads());
    // A thread's uncaught error with no call on it; its exit follows and is handled there.
    piscina.on('error', (error: unknown) => this.emit('thread-error', error));
    this.trackThreads();
    if (claimed) {
      // Its one task: the module to serve. Failing, it reported start-failed; ending it lets
      // piscina start a replacement on the module, which fails or serves as any thread would.
      piscina.run(this.#data).catch(() => {
        if (this.#piscinas.has(piscina)) for (const t of piscina.threads) void t.terminate();
      });
    }
  }

  /** Ends `threadId` for good (the pool shrinks by one): its exit is reported as usual. */
  shrink(threadId: number): void {
    for (const piscina of this.#piscinas) {
      if (!piscina.threads.some((t) => t.threadId === threadId)) continue;
      this.#piscinas.delete(piscina);
      this.#workerData.delete(piscina);
      this.#terminating.add(threadId);
      void piscina.destroy();
      return;
    }
  }

  /** Every thread of every piscina. */
  #all(): NodeWorker[] {
    return [...this.#piscinas].flatMap((piscina) => piscina.threads);
  }

  /**
   * Resolves once `needed` threads (default: all) have instantiated the module; rejects on the
   * first failure.
   */
  whenReady(startTimeoutMs = this.#startTimeoutMs, needed = this.threads): Promise<void> {
    this.#needed = needed;
    if (this.#ready.size >= needed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new StartTimeoutError(
            `Only ${this.#ready.size} of ${needed} threads instantiated the module within ` +
              `${startTimeoutMs} ms. Does its start function loop, or is the module huge? ` +
              `Raise startTimeoutMs if it is just slow.`,
            { details: { ready: this.#ready.size, threads: this.threads, startTimeoutMs } },
          ),
        );
      }, startTimeoutMs);
      this.#startup = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
    });
  }

  /**
   * The module threads started from now on instantiate, after the running ones switched to it
   * in place. piscina hands every new thread its piscina's workerData object, so updating those
   * is enough; a thread already starting reports the version it started with.
   */
  setModule(compiled: ThreadData['compiled'], version: number): void {
    this.#data.compiled = compiled;
    this.#data.version = version;
    for (const workerData of this.#workerData.values())
      Object.assign(workerData, { compiled, version });
    this.version = version;
  }

  /** Threads currently alive (starting or serving). */
  get threadsAlive(): number {
    return this.#all().length;
  }

  /** Threads that finished instantiating and have not exited. */
  get threadsReady(): number {
    return this.#ready.size;
  }

  /**
   * Terminates one thread (a running wasm call can be stopped no other way). Once per thread:
   * each `terminate()` of Node's Worker adds an exit listener.
   */
  terminate(threadId: number): void {
    if (this.#terminating.has(threadId)) return;
    const thread = this.#all().find((t) => t.threadId === threadId);
    if (!thread) return;
    this.#terminating.add(threadId);
    void thread.terminate();
  }

  /** Picks up threads piscina created since the last look, to learn their exit codes. */
  trackThreads(): void {
    for (const thread of this.#all()) {
      if (this.#tracked.has(thread)) continue;
      this.#tracked.add(thread);
      const { threadId } = thread;
      thread.once('exit', (code) => {
        this.#ready.delete(threadId);
        this.#terminating.delete(threadId);
        if (!this.#destroyed) this.emit('thread-exit', threadId, code);
      });
    }
  }

  /** Terminates every thread; calls still on it reject. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#startup?.reject(
      new StartTimeoutError('The pool was stopped before its threads were ready.'),
    );
    await Promise.all([...this.#piscinas].map((piscina) => piscina.destroy()));
  }

  #onStatus(message: unknown): void {
    if (!isThreadStatus(message)) return;
    this.trackThreads();
    if (message.wasmtube === 'call-channel') {
      this.emit('call-channel', message.threadId, message.version, message.port, message.slots);
    } else if (message.wasmtube === 'host-channel') {
      this.emit('host-channel', message.port, message.buffer);
    } else if (message.wasmtube === 'ready') {
      this.#ready.add(message.threadId);
      this.emit('thread-ready', message.threadId);
      if (this.#ready.size >= this.#needed) this.#startup?.resolve();
    } else {
      const error = deserializeError(message.error);
      this.#startup?.reject(error);
      this.emit('start-failed', message.threadId, error);
    }
  }
}
