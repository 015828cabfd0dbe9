import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import type { ThreadData, ThreadResponse } from '../protocol/messages.js';
import { SlotState } from '../protocol/call-slots.js';
import type { PendingCall } from './pending-call.js';
import { ThreadLink } from './thread-link.js';
import { ThreadPool } from './thread-pool.js';
import type { RestartReason } from './worker-types.js';

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
}

/** A thread's exit, as the table saw it. */
export interface ThreadExit {
  pool: ThreadPool;
  threadId: number;
  exitCode: number;
  planned: RestartReason | undefined;
  link: ThreadLink<PendingCall> | undefined;
  lost: { call: PendingCall; state: SlotState }[];
}

/**
 * The worker's threads: the pool serving now, older pools retiring once their calls are done,
 * and each thread's call channel (ThreadLink) by thread id. It knows which exits were planned
 * and which of the threads are the serving ones (the rest are warm spares).
 */
export class ThreadTable {
  /** Serving threads; more are spares. */
  readonly threads: number;
  readonly #spares: number;
  readonly #startTimeoutMs: number;
  readonly #resourceLimits: ResourceLimits | undefined;
  readonly #hooks: ThreadTableHooks;
  readonly #links = new Map<number, ThreadLink<PendingCall>>();
  readonly #retiring = new Set<ThreadPool>();
  /** Threads terminated on purpose, so their exits are not crashes. */
  readonly #planned = new Map<number, RestartReason>();
  #pool: ThreadPool | undefined;

  constructor(
    options: {
      threads: number;
      spares: number;
      startTimeoutMs: number;
      resourceLimits: ResourceLimits | undefined;
    },
    hooks: ThreadTableHooks,
  ) {
    this.threads = options.threads;
    this.#spares = options.spares;
    this.#startTimeoutMs = options.startTimeoutMs;
    this.#resourceLimits = options.resourceLimits;
    this.#hooks = hooks;
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

  /** The serving pool's threads that take calls: the first `threads` to start; the rest are spares. */
  *active(): Generator<ThreadLink<PendingCall>> {
    let active = 0;
    for (const link of this.#links.values()) {
      if (link.pool !== this.#pool || !link.serving) continue;
      if (active++ >= this.threads) return;
      yield link;
    }
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
      threads: this.threads + this.#spares,
      startTimeoutMs: this.#startTimeoutMs,
      resourceLimits: this.#resourceLimits,
    });
    pool.on('thread-exit', (threadId, exitCode) => this.#onExit(pool, threadId, exitCode));
    pool.on('call-channel', (threadId, version, port, slots) => {
      const link = new ThreadLink<PendingCall>(
        pool,
        threadId,
        version,
        port,
        slots,
        (call, response) => this.#hooks.onResponse(call, response, link),
        (call, error) => this.#hooks.onUnsendable(call, error),
      );
      this.#links.set(threadId, link);
      this.#hooks.onLink(link);
    });
    pool.on('host-channel', (port, buffer) => this.#hooks.onHostChannel(port, buffer));
    pool.on('thread-error', () => undefined); // its exit is reported and handled as a crash
    try {
      await pool.whenReady(this.#startTimeoutMs, this.threads);
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

  #onExit(pool: ThreadPool, threadId: number, exitCode: number): void {
    const planned = this.#planned.get(threadId);
    this.#planned.delete(threadId);
    const link = this.#links.get(threadId);
    this.#links.delete(threadId);
    // Replies the thread posted before it went are delivered by close(), before the rest is lost.
    const lost = link
      ? link.close().map((call) => ({ call, state: link.slots.state(call.slot) }))
      : [];
    this.#hooks.onExit({ pool, threadId, exitCode, planned, link, lost });
  }
}
