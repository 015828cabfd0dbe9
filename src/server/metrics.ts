import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CallWindow } from './call-window.js';

/** A module's live numbers, read when `/metrics` is scraped. */
export interface ModuleGaugeSource {
  name: string;
  serving: boolean;
  version: number;
  queued: number;
  running: number;
  threads: number;
  /** The pool's bounds: minThreads at rest, maxThreads under load. */
  minThreads: number;
  maxThreads: number;
}

/** Outcome label of a successful call; failures are labelled with their error code. */
export const OK = 'ok';

/**
 * The gateway's Prometheus metrics, in a registry of its own (two gateways in one process do not
 * clash). Label values are bounded: module names come from the folder, function names from the
 * module's exports (others are counted as `_unknown`), outcomes are `ok` or error codes.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly calls: Counter<'module' | 'function' | 'outcome'>;
  readonly duration: Histogram<'module' | 'function'>;
  readonly restarts: Counter<'module' | 'reason'>;
  readonly reloads: Counter<'module' | 'outcome'>;
  readonly deploys: Counter<'module' | 'outcome'>;
  readonly undeploys: Counter<'module'>;
  /** The calls since the event stream's last tick (calls/s, latency percentiles, failures). */
  readonly window = new CallWindow();

  constructor(modules: () => Iterable<ModuleGaugeSource>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.calls = new Counter({
      name: 'wasmtube_calls_total',
      help: 'Function calls by module, function and outcome (ok or the error code).',
      labelNames: ['module', 'function', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'wasmtube_call_duration_seconds',
      help: 'Time from receiving a call to its result (queue, run, decode and encode), in seconds.',
      labelNames: ['module', 'function'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.restarts = new Counter({
      name: 'wasmtube_thread_restarts_total',
      help: 'Threads replaced, by reason (crash, timeout, abort, supervisor).',
      labelNames: ['module', 'reason'],
      registers,
    });
    this.reloads = new Counter({
      name: 'wasmtube_reloads_total',
      help: 'Hot reloads of a module: ok, rejected (the running version kept serving) or rollback.',
      labelNames: ['module', 'outcome'],
      registers,
    });
    this.deploys = new Counter({
      name: 'wasmtube_deploys_total',
      help: 'Modules started from the folder (new, re-added or with changed settings): ok or failed.',
      labelNames: ['module', 'outcome'],
      registers,
    });
    this.undeploys = new Counter({
      name: 'wasmtube_undeploys_total',
      help: 'Modules drained and stopped because their file was removed.',
      labelNames: ['module'],
      registers,
    });
    const gauge = (name: string, help: string, value: (m: ModuleGaugeSource) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['module'],
        registers,
        collect() {
          this.reset();
          for (const m of modules()) this.set({ module: m.name }, value(m));
        },
      });
    gauge('wasmtube_module_up', '1 when the module is serving, else 0.', (m) =>
      m.serving ? 1 : 0,
    );
    gauge('wasmtube_module_version', 'The module version being served.', (m) => m.version);
    gauge('wasmtube_queue_depth', 'Calls waiting for a thread.', (m) => m.queued);
    gauge('wasmtube_calls_running', 'Calls running in a thread.', (m) => m.running);
    gauge('wasmtube_threads', 'Threads alive.', (m) => m.threads);
    gauge('wasmtube_threads_min', 'Threads kept at rest (minThreads).', (m) => m.minThreads);
    gauge('wasmtube_threads_max', 'Most threads under load (maxThreads).', (m) => m.maxThreads);
  }

  /** Records one finished call. */
  observeCall(module: string, fn: string, outcome: string, seconds: number): void {
    this.calls.inc({ module, function: fn, outcome });
    this.duration.observe({ module, function: fn }, seconds);
    this.window.observe(module, outcome, seconds * 1000, outcome === OK);
  }
}
