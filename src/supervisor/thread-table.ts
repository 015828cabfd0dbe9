import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import type { WasmtubeError } from '../errors.js';
import type { ThreadData, ThreadResponse } from '../protocol/messages.js';
import { SlotState } from '../protocol/call-slots.js';
import type { PendingCall } from './pending-call.js';
import { ThreadLink } from './thread-link.js';
import { ThreadPool } from './thread-pool.js';
import { blankThreads } from './blank-threads.js';
import type { RestartReason, ThreadStatus } from './worker-types.js';

/** What the table tells its worker. */
export interface ThreadTableHooks {
  /** A thread opened its call channel: it can take calls. */
  onLink(link: ThreadLink<PendingCall>): void;
  onResponse(call: PendingCall, response: ThreadResponse, link: ThreadLink<PendingCall>): void;
  /** A call could not be posted to its thread (not cloneable); the link let go of it. */
  onUnsendable(call: PendingCall, error: Error): void;
  /**
   * A thread exited. `planned` says why when the worker terminated it; `lost` are the calls its
   * link still had, with their slot states; `link` is undefined if it never opened a channel.
   */
  onExit(exit: ThreadExit): void;
  /** A thread opened a channel for host functions that run on the main thread. */
  onHostChannel(port: MessagePort, buffer: SharedArrayBuffer): void;
  /** A thread the pool grew by could not instantiate the module, and no thread serves. */
  onGrowthFailed(error: WasmtubeError): void;
}

/** A thread's exit, as the table saw it. */
export interface ThreadExit {
  pool: ThreadPool;
  threadId: number;
  exitCode: number;
  planned: RestartReason | undefined;
  link: ThreadLink<PendingCall> | undefined;
  lost: { call: PendingCall; state: SlotState }[];
  /** The pool shrank: the thread sat idle past `idleTimeoutMs` and is not replaced. */
  scaledDown: boolean;
}

/** How many threads a table keeps: from `min` (at rest) to `max` (under load). */
export interface ThreadScale {
  min: number;
  max: number;
  /** A thread above `min` idle this long exits. */
  idleTimeoutMs: number;
}

/**
 * The worker's threads: the pool serving now, older pools retiring once their calls are done,
 * and each thread's call channel (ThreadLink) by thread id. It knows which exits were planned
 * and which of the threads are the serving ones (the rest are warm spares).
 */
export class ThreadTable {
  /** The most threads that serve at once (maxThreads); more are spares. */
  readonly threads: number;
  readonly scale: ThreadScale;
  readonly #spares: number;
  /** Threads serving now, from `scale.min` to `scale.max`. */
  #size: number;
  /** When each thread last answered a call (or opened its channel). */
  readonly #lastActive = new WeakMap<ThreadLink<PendingCall>, number>();
  /** Threads ended because they sat idle. */
  readonly #scaledDown = new Set<number>();
  /**
   * Links of threads being ended for scaling: out of dispatch for good (a version catch-up that
   * sets `serving` again must not bring them back), until their exit closes them.
   */
  readonly #ending = new WeakSet<ThreadLink<PendingCall>>();
  readonly #startTimeoutMs: number;
  readonly #resourceLimits: ResourceLimits | undefined;
  readonly #hooks: ThreadTableHooks;
  readonly #links = new Map<number, ThreadLink<PendingCall>>();
  readonly #retiring = new Set<ThreadPool>();
  /** Threads terminated on purpose, so their exits are not crashes. */
  readonly #planned = new Map<number, RestartReason>();
  #pool: ThreadPool | undefined;
  /** Looks for idle threads to end while the pool is above its minimum. */
  #shrinkTimer: NodeJS.Timeout | undefined;

  constructor(
    options: {
      scale: ThreadScale;
      spares: number;
      startTimeoutMs: number;
      resourceLimits: ResourceLimits | undefined;
    },
    hooks: ThreadTableHooks,
  ) {
    this.scale = options.scale;
    this.threads = options.scale.max;
    this.#size = options.scale.min;
    this.#spares = options.spares;
    this.#startTimeoutMs = options.startTimeoutMs;
    this.#resourceLimits = options.resourceLimits;
    this.#hooks = hooks;
    // A pool that grows takes its new threads from the reservoir of blank threads.
    if (this.scale.min < this.scale.max && !this.#resourceLimits) {
      blankThreads.warm(this, this.scale.max - this.scale.min);
    }
  }

  /** The pool serving now (set by {@link serveWith}). */
  get pool(): ThreadPool {
    return this.#pool!;
  }

  /** Every open call channel, of the serving and the retiring pools. */
  links(): IterableIterator<ThreadLink<PendingCall>> {
    return this.#links.values();
  }

  /** The open call channels of `pool`. */
  linksOf(pool: ThreadPool): ThreadLink<PendingCall>[] {
    return [...this.#links.values()].filter((link) => link.pool === pool);
  }

  /** Threads serving now (between minThreads and maxThreads). */
  get size(): number {
    return this.#size;
  }

  /** The serving pool's threads that take calls: the first `size` to start; the rest are spares. */
  *active(): Generator<ThreadLink<PendingCall>> {
    let active = 0;
    for (const link of this.#links.values()) {
      if (link.pool !== this.#pool || !link.serving || this.#ending.has(link)) continue;
      if (active++ >= this.#size) return;
      yield link;
    }
  }

  /**
   * Grows the serving pool toward `scale.max` while calls wait: one more thread per waiting
   * call beyond those already starting. A warm spare takes calls at once.
   */
  grow(waiting: number): void {
    const pool = this.#pool;
    if (!pool || waiting === 0) return;
    const starting = Math.max(0, pool.threads - this.linksOf(pool).length);
    let wanted = Math.min(this.scale.max, this.#size + Math.max(0, waiting - starting));
    if (this.#size === 0) wanted = Math.max(wanted, 1);
    if (wanted <= this.#size) return;
    this.#size = wanted;
    // A spare that just became a serving thread has not idled, however long it waited.
    const now = performance.now();
    for (const link of this.linksOf(pool)) this.#lastActive.set(link, now);
    // The threads that serve first; spares once those are ready, not competing with their boot.
    while (pool.threads < this.#size) pool.grow();
    this.#topUpSpares(pool);
    this.#watchIdle();
  }

  /** Looks for idle threads to end while the serving pool has more than it keeps at rest. */
  #watchIdle(): void {
    if (!this.#pool || this.#pool.threads <= this.#target(this.scale.min)) return;
    this.#shrinkTimer ??= setInterval(
      () => this.shrinkIdle(performance.now()),
      Math.min(1000, Math.max(10, this.scale.idleTimeoutMs / 4)),
    ).unref();
  }

  /** Starts the spares the pool lacks, once its serving threads are all ready. */
  #topUpSpares(pool: ThreadPool): void {
    if (pool !== this.#pool || pool.threadsReady < this.#size) return;
    while (pool.threads < this.#target()) pool.grow();
  }

  /**
   * Ends serving threads above `scale.min` (and then spares) idle for `idleTimeoutMs`. A thread
   * is ended only with no call on it, and is taken out of dispatch in the same turn, so no call
   * can reach it afterwards (checked and ended synchronously: nothing is posted in between).
   */
  shrinkIdle(now: number): void {
    const pool = this.#pool;
    if (!pool || pool.threads <= this.#target(this.scale.min)) {
      clearInterval(this.#shrinkTimer);
      this.#shrinkTimer = undefined;
      return;
    }
    const idle = (link: ThreadLink<PendingCall>) =>
      !this.#ending.has(link) &&
      link.load === 0 &&
      now - (this.#lastActive.get(link) ?? now) >= this.scale.idleTimeoutMs;
    // Serving threads idle past the timeout stop serving (a spare idles by design: it does not
    // count, nor does a busy thread's neighbour).
    let idleServing = 0;
    for (const link of this.active()) if (idle(link)) idleServing++;
    this.#size = Math.max(this.scale.min, this.#size - idleServing);
    // Then idle threads end, the last started first, while the pool has more than it keeps.
    for (const link of this.linksOf(pool).reverse()) {
      if (pool.threads <= this.#target()) return;
      if (idle(link)) this.#end(pool, link);
    }
  }

  /** Ends an idle thread for scaling: out of dispatch first, then its piscina destroyed. */
  #end(pool: ThreadPool, link: ThreadLink<PendingCall>): void {
    if (link.load > 0) return; // checked again at the moment of ending
    this.#ending.add(link);
    link.serving = false;
    this.#scaledDown.add(link.threadId);
    pool.shrink(link.threadId);
  }

  /** Threads of `pool` (the serving one; undefined once stopped) for the worker's stats. */
  status(pool: ThreadPool | undefined): ThreadStatus {
    const size = this.#size;
    return {
      target: size,
      min: this.scale.min,
      max: this.scale.max,
      alive: Math.min(pool?.threadsAlive ?? 0, size),
      ready: Math.min(pool?.threadsReady ?? 0, size),
      spare: Math.max(0, (pool?.threadsReady ?? 0) - size),
    };
  }

  /** Threads the pool keeps for `size` serving: plus the spares, none when none serve. */
  #target(size = this.#size): number {
    return size === 0 ? 0 : size + this.#spares;
  }

  /** The link's thread has been running its current call for more than `ms`. */
  busyFor(link: ThreadLink<PendingCall>, now: number, ms: number): boolean {
    for (const call of link.calls()) {
      if (link.slots.state(call.slot) === SlotState.Running) {
        return now - link.slots.startedAt(call.slot) > ms;
      }
    }
    return false;
  }

  /**
   * Starts a pool of threads on `data` and resolves once the serving ones are ready (spares
   * finish starting meanwhile). It takes calls once passed to {@link serveWith}.
   */
  async start(data: ThreadData): Promise<ThreadPool> {
    const pool = new ThreadPool({
      data,
      threads: this.#target(),
      startTimeoutMs: this.#startTimeoutMs,
      resourceLimits: this.#resourceLimits,
    });
    pool.on('thread-exit', (threadId, exitCode) => this.#onExit(pool, threadId, exitCode));
    pool.on('thread-ready', () => this.#topUpSpares(pool));
    pool.on('start-failed', (threadId, error) => this.#onStartFailed(pool, threadId, error));
    pool.on('call-channel', (threadId, version, port, slots) => {
      const link = new ThreadLink<PendingCall>(
        pool,
        threadId,
        version,
        port,
        slots,
        (call, response) => {
          this.#lastActive.set(link, performance.now());
          this.#hooks.onResponse(call, response, link);
        },
        (call, error) => this.#hooks.onUnsendable(call, error),
      );
      this.#links.set(threadId, link);
      this.#lastActive.set(link, performance.now());
      this.#hooks.onLink(link);
    });
    pool.on('host-channel', (port, buffer) => this.#hooks.onHostChannel(port, buffer));
    pool.on('thread-error', () => undefined); // its exit is reported and handled as a crash
    try {
      await pool.whenReady(this.#startTimeoutMs, this.#size);
    } catch (error) {
      await pool.destroy();
      throw error;
    }
    return pool;
  }

  /** New calls go to `pool` from now on; the pool serving until now retires once idle. */
  serveWith(pool: ThreadPool): ThreadPool | undefined {
    const old = this.#pool;
    this.#pool = pool;
    // It started with the threads serving then; the pool may have shrunk since.
    this.#watchIdle();
    if (old) {
      this.#retiring.add(old);
      this.retireIdle();
    }
    return old;
  }

  /** Retires the old pools whose threads have no call left: closes their channels, ends them. */
  retireIdle(): void {
    for (const pool of this.#retiring) {
      // Scans threads, not calls: this runs as each call settles while a reload drains.
      if (this.linksOf(pool).some((link) => link.load > 0)) continue;
      this.#retiring.delete(pool);
      this.#close(pool);
      void pool.destroy();
    }
  }

  /** Terminates a link's thread for `reason`: its exit is then not counted as a crash. */
  terminate(link: ThreadLink<PendingCall>, reason: RestartReason): void {
    this.#planned.set(link.threadId, reason);
    link.pool.terminate(link.threadId);
  }

  /**
   * Closes every channel at once (replies already sent are delivered first) and ends every
   * pool: `lost` are the calls the threads still had, `ended` resolves once the threads are gone.
   */
  closeAll(): { lost: PendingCall[]; ended: Promise<void> } {
    clearInterval(this.#shrinkTimer);
    blankThreads.release(this);
    const pools = [this.#pool, ...this.#retiring].filter((pool) => pool !== undefined);
    this.#retiring.clear();
    const lost = pools.flatMap((pool) => this.#close(pool));
    return { lost, ended: Promise.all(pools.map((pool) => pool.destroy())).then(() => undefined) };
  }

  /** Closes the call channels of a pool whose threads are being terminated. */
  #close(pool: ThreadPool): PendingCall[] {
    const lost: PendingCall[] = [];
    for (const [threadId, link] of this.#links) {
      if (link.pool !== pool) continue;
      this.#links.delete(threadId);
      lost.push(...link.close());
    }
    return lost;
  }

  /**
   * A thread the pool grew by could not instantiate the module (a module scaled to zero whose
   * imports are missing, say). With no thread of the pool ready, the calls waiting have nothing
   * to run on: they fail with its error, and the pool steps back down, so the next call tries a
   * new thread rather than waiting for one piscina will not start again.
   */
  #onStartFailed(pool: ThreadPool, threadId: number, error: WasmtubeError): void {
    if (pool !== this.#pool || pool.threadsReady > 0 || this.#size <= this.scale.min) return;
    this.#size--;
    this.#scaledDown.add(threadId);
    pool.shrink(threadId);
    this.#hooks.onGrowthFailed(error);
  }

  #onExit(pool: ThreadPool, threadId: number, exitCode: number): void {
    const scaledDown = this.#scaledDown.delete(threadId);
    const planned = this.#planned.get(threadId);
    this.#planned.delete(threadId);
    const link = this.#links.get(threadId);
    this.#links.delete(threadId);
    // Replies the thread posted before it went are delivered by close(), before the rest is lost.
    const lost = link
      ? link.close().map((call) => ({ call, state: link.slots.state(call.slot) }))
      : [];
    this.#hooks.onExit({ pool, threadId, exitCode, planned, link, lost, scaledDown });
  }
}
