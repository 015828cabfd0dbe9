import type { CallError, WindowFigures } from './call-window.js';
import type { LogBook, LogEntry } from './log-book.js';
import type { GatewayMetrics } from './metrics.js';
import type { ModuleActivity } from './module-activity.js';
import type { ModuleRegistry } from './module-registry.js';
import { moduleStatus, type ModuleStatus } from './module-status.js';

/** A module's live figures, as `stats` events and the snapshot carry them. */
export interface ModuleLive {
  name: string;
  state: ModuleStatus['state'];
  version: number;
  hash: string | undefined;
  threads: ModuleStatus['threads'];
  queued: number;
  running: number;
  /** Calls answered per second over the last tick. */
  callsPerSec: number;
  /** Latency percentiles of the last tick's calls, ms (0 without calls). */
  p50Ms: number;
  p99Ms: number;
  /** Calls answered and failed since the gateway started (across versions). */
  calls: number;
  failures: number;
  failuresByCode: Record<string, number>;
  /** Threads replaced since the gateway started (crash, timeout, abort, supervisor, reload). */
  restarts: number;
}

/** One point of a module's sparkline. */
export interface HistoryPoint {
  /** ms since the epoch. */
  t: number;
  callsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Every event of `GET /events`: a JSON object with a `type`. */
export type GatewayEvent =
  | {
      type: 'snapshot';
      at: string;
      modules: (ModuleStatus & { live: ModuleLive })[];
      history: Record<string, HistoryPoint[]>;
      timeline: (ModuleActivity & { at: string })[];
      errors: CallError[];
    }
  | { type: 'stats'; at: string; modules: ModuleLive[] }
  | (ModuleActivity & { at: string })
  | ({ type: 'call-error' } & CallError)
  | ({ type: 'log' } & LogEntry);

/** Options of an {@link EventHub}. */
export interface EventHubOptions {
  registry: ModuleRegistry;
  metrics: GatewayMetrics;
  logs: LogBook;
  /** How often live figures are taken and sent. Default: 1000 ms. */
  tickMs?: number;
  /** Points of history kept per module. Default: 300 (5 minutes at 1 s). */
  historyLength?: number;
}

const TIMELINE_LENGTH = 200;
const ERRORS_LENGTH = 50;

/**
 * The gateway's live state as a stream of typed events (the dashboard's, `wasmtube top`'s and
 * `logs -f`'s source): the registry's activity and the log's lines as they happen, plus, every
 * tick, the figures of the calls answered since the last one. It keeps the recent past (a
 * timeline, recent call errors, a few minutes of figures) for the snapshot a new client gets.
 */
export class EventHub {
  readonly #options: Required<EventHubOptions>;
  readonly #clients = new Set<(event: GatewayEvent) => void>();
  readonly #enders = new Map<(event: GatewayEvent) => void, () => void>();
  readonly #timeline: (ModuleActivity & { at: string })[] = [];
  readonly #errors: CallError[] = [];
  readonly #history = new Map<string, HistoryPoint[]>();
  readonly #totals = new Map<
    string,
    { calls: number; failures: number; failuresByCode: Record<string, number>; restarts: number }
  >();
  #last = new Map<string, ModuleLive>();
  readonly #timer: NodeJS.Timeout;
  readonly #onActivity = (event: ModuleActivity) => this.#activity(event);
  readonly #onLog = (entry: LogEntry) => this.#broadcast({ ...entry, type: 'log' });

  constructor(options: EventHubOptions) {
    this.#options = { tickMs: 1000, historyLength: 300, ...options };
    options.registry.on('activity', this.#onActivity);
    options.logs.on('line', this.#onLog);
    this.#timer = setInterval(() => this.#tick(), this.#options.tickMs).unref();
  }

  /**
   * Calls `send` with every event from now on, and `end` when the hub closes; returns the
   * function that unsubscribes.
   */
  subscribe(send: (event: GatewayEvent) => void, end: () => void = () => undefined): () => void {
    this.#clients.add(send);
    this.#enders.set(send, end);
    return () => {
      this.#clients.delete(send);
      this.#enders.delete(send);
    };
  }

  /** How many clients are subscribed. */
  get clients(): number {
    return this.#clients.size;
  }

  /** The state now and the recent past: what a client gets first. */
  snapshot(): GatewayEvent {
    const modules = this.#options.registry.list().map((module) => {
      const status = moduleStatus(module);
      return { ...status, live: this.#last.get(module.name) ?? this.#live(status) };
    });
    return {
      type: 'snapshot',
      at: new Date().toISOString(),
      modules,
      history: Object.fromEntries(this.#history),
      timeline: [...this.#timeline],
      errors: [...this.#errors],
    };
  }

  /** Stops the ticks, lets go of the registry and the log, and ends every client. Idempotent. */
  close(): void {
    clearInterval(this.#timer);
    this.#options.registry.off('activity', this.#onActivity);
    this.#options.logs.off('line', this.#onLog);
    const enders = [...this.#enders.values()];
    this.#clients.clear();
    this.#enders.clear();
    for (const end of enders) end();
  }

  #activity(activity: ModuleActivity): void {
    const event = { ...activity, at: new Date().toISOString() };
    if (activity.type === 'restart') this.#totalsOf(activity.module).restarts++;
    // Thread restarts are counted, not listed: a crash loop would flood the timeline.
    if (activity.type !== 'restart') push(this.#timeline, event, TIMELINE_LENGTH);
    this.#broadcast(event);
    // The module's new state (version, hash, threads) at once, not at the next tick.
    this.#tick(false);
  }

  /** Takes the window's figures (when `advance`) and sends every module's live state. */
  #tick(advance = true): void {
    const { registry, metrics, historyLength } = this.#options;
    const figures = advance ? metrics.window.take() : new Map<string, WindowFigures>();
    const now = Date.now();
    const seconds = this.#options.tickMs / 1000;
    const modules: ModuleLive[] = [];
    const next = new Map<string, ModuleLive>();
    for (const module of registry.list()) {
      const status = moduleStatus(module);
      const window = figures.get(module.name);
      const totals = this.#totalsOf(module.name);
      if (window) {
        totals.calls += window.calls;
        totals.failures += window.failures;
        for (const [code, n] of Object.entries(window.failuresByCode)) {
          totals.failuresByCode[code] = (totals.failuresByCode[code] ?? 0) + n;
        }
      }
      const previous = this.#last.get(module.name);
      const live: ModuleLive = {
        ...this.#live(status),
        callsPerSec: advance
          ? Math.round(((window?.calls ?? 0) / seconds) * 10) / 10
          : (previous?.callsPerSec ?? 0),
        p50Ms: advance ? (window?.p50Ms ?? 0) : (previous?.p50Ms ?? 0),
        p99Ms: advance ? (window?.p99Ms ?? 0) : (previous?.p99Ms ?? 0),
      };
      if (advance) {
        let points = this.#history.get(module.name);
        if (!points) this.#history.set(module.name, (points = []));
        push(
          points,
          { t: now, callsPerSec: live.callsPerSec, p50Ms: live.p50Ms, p99Ms: live.p99Ms },
          historyLength,
        );
      }
      next.set(module.name, live);
      modules.push(live);
    }
    // Modules gone (undeployed) keep no history.
    for (const name of this.#history.keys()) if (!next.has(name)) this.#history.delete(name);
    this.#last = next;
    if (advance) {
      for (const error of metrics.window.takeErrors()) {
        push(this.#errors, error, ERRORS_LENGTH);
        this.#broadcast({ type: 'call-error', ...error });
      }
    }
    if (this.#clients.size > 0) {
      this.#broadcast({ type: 'stats', at: new Date(now).toISOString(), modules });
    }
  }

  #live(status: ModuleStatus): ModuleLive {
    const totals = this.#totalsOf(status.name);
    const threads = status.threads as ModuleLive['threads'];
    return {
      name: status.name,
      state: status.state,
      version: status.version,
      hash: status.hash,
      threads: threads && { ...threads, spare: threads.spare ?? 0 },
      queued: status.queued,
      running: status.running,
      callsPerSec: 0,
      p50Ms: 0,
      p99Ms: 0,
      calls: totals.calls,
      failures: totals.failures,
      failuresByCode: { ...totals.failuresByCode },
      restarts: totals.restarts,
    };
  }

  #totalsOf(name: string) {
    let totals = this.#totals.get(name);
    if (!totals) {
      totals = { calls: 0, failures: 0, failuresByCode: {}, restarts: 0 };
      this.#totals.set(name, totals);
    }
    return totals;
  }

  #broadcast(event: GatewayEvent): void {
    for (const send of this.#clients) {
      try {
        send(event);
      } catch {
        // Its connection is gone (a write after close): it is dropped, the others go on.
        this.#clients.delete(send);
        this.#enders.delete(send);
      }
    }
  }
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
