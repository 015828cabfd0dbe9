import { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { HostFunctions } from '../bridge/host-functions.js';
import { ReloadRejectedError } from '../errors.js';
import { Worker } from '../supervisor/worker.js';
import { sha256 } from '../util/sha256.js';
import { CoalescingQueue } from './coalescing-queue.js';
import { DeployFolderWatcher, moduleNameOf } from './deploy-folder-watcher.js';
import { grantedHostFunctions } from './host-catalog.js';
import type { GatewayMetrics, ModuleGaugeSource } from './metrics.js';
import { describeGuest } from './guest-description.js';
import { summarizeError, type RegistryEvents } from './module-activity.js';
import { ModuleRecord, type DeployedModule } from './module-record.js';
import { readModuleSettings } from './read-module-settings.js';
import { checkModuleName, isModuleName, readInside } from './safe-path.js';
import type { ModuleSettings } from './sidecar.js';
import { workerOptions } from './worker-options.js';

/** Options of a {@link ModuleRegistry}. */
export interface RegistryOptions {
  /** The deploy folder, absolute. */
  folder: string;
  /** Settings of modules without a sidecar, and the base that sidecars override. */
  defaults: ModuleSettings;
  /** Watch the folder and deploy, reload and undeploy as files change. */
  watch: boolean;
  /** A changed file must keep its size this long before it is read. */
  stabilityMs: number;
  /** File events for one module closer together than this are one change. */
  debounceMs: number;
  /** How long an undeployed or replaced version may take to finish its calls. */
  drainTimeoutMs: number;
  logger: FastifyBaseLogger;
  metrics: GatewayMetrics;
  /** Host functions offered besides the built-in ones; sidecars grant them by name. */
  hostFunctions: HostFunctions;
}

/**
 * Makes the modules served match the deploy folder: every `<name>.wasm` becomes a supervised
 * {@link Worker}, configured by the gateway's defaults and its sidecar `<name>.json`. A new file
 * deploys; changed content hot-reloads (blue/green, in the worker); changed settings start a new
 * worker, move traffic to it and drain the old one; a deleted file drains and undeploys. Every
 * change is reconciled per module, one at a time, from what is on disk at that moment. Each step
 * is reported as an `activity` event (see {@link ModuleActivity}).
 */
export class ModuleRegistry extends EventEmitter<RegistryEvents> {
  readonly #options: RegistryOptions;
  readonly #records = new Map<string, ModuleRecord>();
  /** Last version of undeployed modules, so a re-added module's versions keep increasing. */
  readonly #lastVersions = new Map<string, number>();
  readonly #queue = new CoalescingQueue();
  readonly #retiring = new Set<Promise<void>>();
  #watcher: DeployFolderWatcher | undefined;
  /** Modules to start again on their next sync even if nothing changed (`restart()`). */
  readonly #restarts = new Set<string>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RegistryOptions) {
    super();
    this.#options = options;
  }

  /** The deploy folder, absolute. */
  get folder(): string {
    return this.#options.folder;
  }

  /**
   * Starts module `name` again from its files: a new worker with fresh threads takes new calls
   * as the next version once ready, and the old one drains (PM2's `reload`). Resolves when done;
   * the module's status tells how it went.
   */
  restart(name: string): Promise<void> {
    this.#restarts.add(name);
    return this.sync(name);
  }

  /** Starts watching (if asked) and deploys every module in the folder; resolves when done. */
  async start(): Promise<void> {
    const { folder, watch, stabilityMs, debounceMs, logger } = this.#options;
    if (watch) {
      const watcher = new DeployFolderWatcher(folder, { stabilityMs, debounceMs });
      this.#watcher = watcher;
      watcher.on('changed', (name) => void this.sync(name));
      watcher.on('error', (error) => logger.error({ err: error }, 'watching the folder failed'));
      await watcher.whenReady();
    }
    const names = new Set<string>();
    for (const entry of await readdir(folder)) {
      const name = moduleNameOf(entry);
      if (name !== undefined && entry.endsWith('.wasm')) names.add(name);
    }
    await Promise.all([...names].map((name) => this.sync(name)));
  }

  /** The module named `name`, whatever its state, or undefined. */
  get(name: string): DeployedModule | undefined {
    return this.#records.get(name);
  }

  /** Every module, sorted by name. */
  list(): DeployedModule[] {
    return [...this.#records.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Live numbers for the metrics gauges. */
  *gauges(): Iterable<ModuleGaugeSource> {
    for (const record of this.#records.values()) {
      if (!isModuleName(record.name)) continue;
      const stats = record.worker?.stats();
      yield {
        name: record.name,
        serving: record.state === 'serving',
        version: record.version,
        queued: stats?.queued ?? 0,
        running: stats?.running ?? 0,
        threads: stats?.threads.alive ?? 0,
        minThreads: stats?.threads.min ?? 0,
        maxThreads: stats?.threads.max ?? 0,
      };
    }
  }

  /**
   * Reconciles module `name` with the folder now (after any sync of it already running). The
   * watcher calls this; call it yourself when not watching. Never rejects: failures are recorded
   * on the module and logged.
   */
  sync(name: string): Promise<void> {
    return this.#queue.run(name, async () => {
      try {
        await this.#sync(name);
      } catch (error) {
        this.#options.logger.error({ err: error, module: name }, 'deploy step failed unexpectedly');
      }
    });
  }

  /**
   * Stops watching, then stops every worker, letting calls finish for up to `timeoutMs`; those
   * left reject with `ERR_WORKER_STOPPED`. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? this.#options.drainTimeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    await this.#watcher?.close();
    // A deploy in progress finishes (and sees #closed); nothing new starts.
    await this.#queue.idle();
    const workers = [...this.#records.values()].flatMap((r) =>
      r.worker?.state === 'running' || r.worker?.state === 'stopping' ? [r.worker] : [],
    );
    await Promise.all([...workers.map((worker) => worker.stop({ timeoutMs })), ...this.#retiring]);
  }

  // ---- reconciling one module ----

  async #sync(name: string): Promise<void> {
    // Taken whatever happens below, so a restart asked for is never applied to a later change.
    const restart = this.#restarts.delete(name);
    if (this.#closed) return;
    const { folder } = this.#options;
    const log = this.#options.logger.child({ module: name });
    if (!isModuleName(name)) {
      // Never deployed; listed as failed while the file is there, so the operator sees why.
      const present = await readInside(folder, `${name}.wasm`).then(
        (bytes) => bytes !== undefined,
        () => true,
      );
      if (!present) {
        this.#records.delete(name);
        return;
      }
      if (!this.#records.has(name)) {
        try {
          checkModuleName(name);
        } catch (error) {
          log.warn({ file: `${name}.wasm` }, `not deployed: ${(error as Error).message}`);
          this.#records.set(name, new ModuleRecord(name).fail(error));
        }
      }
      return;
    }
    const record = this.#records.get(name);
    let bytes: Buffer | undefined;
    let settings: ModuleSettings;
    try {
      bytes = await readInside(folder, `${name}.wasm`);
      if (bytes === undefined) return await this.#undeploy(name, log);
      settings = await readModuleSettings(folder, name, this.#options.defaults);
    } catch (error) {
      log.error({ err: error }, describeFailure(record, 'could not be read'));
      const failed = (record ?? new ModuleRecord(name)).fail(error);
      failed.readError = failed.error;
      // Not serving: the next good read deploys again, whatever failed before.
      if (failed.state !== 'serving') failed.fileHash = failed.settingsKey = undefined;
      this.#records.set(name, failed);
      return;
    }
    if (record?.readError) {
      // The files read fine again: that error is over (a deploy below may record another).
      if (record.error === record.readError) record.error = undefined;
      record.readError = undefined;
      record.touch();
    }
    const hash = sha256(bytes);
    const settingsKey = JSON.stringify(settings);
    if (restart && record && record.state !== 'deploying') {
      // Asked for: start again even if nothing changed (a failed module is retried).
      return this.#deploy(name, bytes, hash, settings, settingsKey, log, 'restart');
    }
    if (record?.state === 'serving' && record.settingsKey === settingsKey) {
      if (record.fileHash === hash) return; // nothing changed: a touch, or a duplicate event
      record.fileHash = hash;
      return this.#reload(record, bytes, log);
    }
    if (
      record?.state === 'failed' &&
      record.fileHash === hash &&
      record.settingsKey === settingsKey
    ) {
      return; // the same content and settings already failed to deploy
    }
    return this.#deploy(name, bytes, hash, settings, settingsKey, log);
  }

  /** Starts a worker for the content and settings; swaps it in for the running one, if any. */
  async #deploy(
    name: string,
    bytes: Buffer,
    hash: string,
    settings: ModuleSettings,
    settingsKey: string,
    log: FastifyBaseLogger,
    why: 'settings' | 'restart' = 'settings',
  ): Promise<void> {
    const { metrics } = this.#options;
    const existing = this.#records.get(name);
    const record = existing ?? new ModuleRecord(name);
    if (!existing) this.#records.set(name, record);
    const previous = existing?.state === 'serving' ? existing.worker : undefined;
    if (!previous) record.state = 'deploying';
    record.settingsKey = settingsKey;
    record.fileHash = hash;
    let worker: Worker;
    let description;
    try {
      description = await describeGuest(bytes);
      const hostFunctions = grantedHostFunctions(
        this.#options.hostFunctions,
        settings.hostFunctions,
        `${name}.json`,
        (message) => log.info({ hostFunction: 'wasmtube.log' }, message),
      );
      worker = await Worker.start(workerOptions(bytes, settings, description.wasi, hostFunctions));
    } catch (error) {
      metrics.deploys.inc({ module: name, outcome: 'failed' });
      this.emit('activity', {
        type: 'deploy-failed',
        module: name,
        version: record.version,
        error: summarizeError(error),
      });
      if (previous) {
        record.noteError(error);
        log.error(
          { err: error, version: record.version },
          `new settings or content not deployed; version ${record.version} keeps serving`,
        );
      } else {
        record.fail(error);
        log.error({ err: error }, 'not deployed');
      }
      return;
    }
    if (this.#closed || this.#records.get(name) !== record) {
      await worker.stop({ timeoutMs: 0 });
      return;
    }
    // Versions only go up: past the one served (even by a failed worker) or last undeployed.
    const prior = record.worker
      ? record.version
      : Math.max(record.versionBase - 1, this.#lastVersions.get(name) ?? 0);
    const version = prior + 1;
    // The swap is synchronous: a call that found the old worker is already queued on it.
    record.swapIn(worker, version, settings, description);
    this.#watchWorker(record, worker, log);
    metrics.deploys.inc({ module: name, outcome: 'ok' });
    this.emit('activity', {
      type: 'deploy',
      module: name,
      version,
      hash: worker.hash,
      reason: previous ? why : 'new',
    });
    log.info(
      { version, hash: worker.hash, functions: [...record.functions.keys()] },
      previous
        ? why === 'restart'
          ? 'restarted on fresh threads'
          : 'redeployed with new settings'
        : 'deployed',
    );
    if (previous) this.#retire(previous);
  }

  async #reload(record: ModuleRecord, bytes: Buffer, log: FastifyBaseLogger): Promise<void> {
    const worker = record.worker!;
    const { metrics } = this.#options;
    try {
      const description = await describeGuest(bytes);
      const result = await worker.reload(bytes);
      const version = record.versionOf(result.to);
      record.rememberHash(version, result.hash);
      record.functions = new Map(description.functions.map((f) => [f.name, f]));
      record.error = undefined;
      record.touch();
      metrics.reloads.inc({ module: record.name, outcome: 'ok' });
      this.emit('activity', {
        type: 'reload',
        module: record.name,
        version,
        hash: result.hash,
        durationMs: result.durationMs,
      });
      log.info({ version, hash: result.hash, durationMs: result.durationMs }, 'reloaded');
    } catch (thrown) {
      const error = inGatewayVersions(thrown, record.version);
      record.noteError(error);
      metrics.reloads.inc({ module: record.name, outcome: 'rejected' });
      this.emit('activity', {
        type: 'reload-rejected',
        module: record.name,
        version: record.version,
        error: summarizeError(error),
      });
      log.warn(
        { err: error, version: record.version },
        `reload rejected; version ${record.version} keeps serving`,
      );
    }
  }

  async #undeploy(name: string, log: FastifyBaseLogger): Promise<void> {
    const record = this.#records.get(name);
    if (!record) return;
    // New calls find no module from here on; calls already made finish on the worker.
    this.#records.delete(name);
    if (!record.worker) return;
    this.#lastVersions.set(name, record.version);
    this.#options.metrics.undeploys.inc({ module: name });
    this.emit('activity', { type: 'undeploy', module: name, version: record.version });
    log.info({ version: record.version }, 'file removed: draining and undeploying');
    await this.#retire(record.worker);
    log.info({ version: record.version }, 'undeployed');
  }

  /** Stops a worker that no longer takes new calls, letting its calls finish. */
  #retire(worker: Worker): Promise<void> {
    const stopping = worker
      .stop({ timeoutMs: this.#options.drainTimeoutMs })
      .catch((error: unknown) =>
        this.#options.logger.error({ err: error }, 'stopping a retired worker failed'),
      )
      .finally(() => this.#retiring.delete(stopping));
    this.#retiring.add(stopping);
    return stopping;
  }

  #watchWorker(record: ModuleRecord, worker: Worker, log: FastifyBaseLogger): void {
    const { metrics } = this.#options;
    const current = () => record.worker === worker;
    worker.on('restart', (event) => {
      metrics.restarts.inc({ module: record.name, reason: event.reason });
      if (current()) {
        const version = record.versionOf(event.version);
        this.emit('activity', {
          type: 'restart',
          module: record.name,
          version,
          reason: event.reason,
        });
      }
      log.warn({ ...event, version: record.versionOf(event.version) }, 'thread restarted');
    });
    worker.on('timeout', (event) => log.warn(event, 'call timed out; its thread is replaced'));
    worker.on('rollback', (event) => {
      if (!current()) return;
      const version = record.versionOf(event.to);
      record.rememberHash(version, event.restoredHash);
      record.touch();
      metrics.reloads.inc({ module: record.name, outcome: 'rollback' });
      this.emit('activity', {
        type: 'rollback',
        module: record.name,
        from: record.versionOf(event.from),
        version,
        hash: event.restoredHash,
      });
      log.error(
        { from: record.versionOf(event.from), to: version, hash: event.hash },
        'new version kept failing: rolled back to the previous content',
      );
    });
    worker.on('failure', (error) => {
      if (!current()) return;
      record.state = 'failed';
      record.error = error;
      record.touch();
      // Rewriting the file (or its sidecar) deploys it again.
      record.settingsKey = undefined;
      this.emit('activity', {
        type: 'module-failed',
        module: record.name,
        version: record.version,
        error: summarizeError(error),
      });
      log.error({ err: error }, 'supervisor gave up on the module; it no longer serves');
    });
  }
}

/**
 * A worker's `ERR_RELOAD_REJECTED` names the worker's own version (0 at its start); the gateway
 * numbers versions across workers, so the message is rebuilt with the version actually serving.
 */
function inGatewayVersions(error: unknown, serving: number): unknown {
  if (!(error instanceof ReloadRejectedError) || typeof error.details.reason !== 'string') {
    return error;
  }
  return new ReloadRejectedError(`Version ${serving} keeps serving: ${error.details.reason}`, {
    cause: error.cause,
    details: { ...error.details, version: serving },
  });
}

function describeFailure(record: ModuleRecord | undefined, what: string): string {
  return record?.state === 'serving'
    ? `files ${what}; version ${record.version} keeps serving`
    : `files ${what}; not deployed`;
}
