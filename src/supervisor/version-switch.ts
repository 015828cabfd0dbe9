import { debuglog } from 'node:util';
import type { CompiledModule } from '../bridge/compiled-module.js';
import type { ThreadData } from '../protocol/messages.js';
import type { PendingCall } from './pending-call.js';
import type { ThreadLink } from './thread-link.js';
import type { ThreadPool } from './thread-pool.js';
import type { ThreadTable } from './thread-table.js';

const debug = debuglog('wasmtube');
/** How long a switch waits for every thread to prepare the new version in place. */
const IN_PLACE_WAIT_MS = 100;

/** What a switch needs of its worker. */
export interface VersionSwitchHooks {
  /** What every thread of a pool serving `compiled` as `version` starts with. */
  threadData(compiled: CompiledModule, version: number): ThreadData;
  /** The worker still serves (not stopping, stopped or failed). */
  serving(): boolean;
  /** New threads serve now: calls `old`'s threads had not started must move to them. */
  onPoolSwapped(old: ThreadPool | undefined): void;
  /** A thread that was catching up takes calls now. */
  onThreadReady(): void;
}

/**
 * The module version the worker's threads serve, and the two ways of changing it behind one
 * `to()`: in place (every running thread instantiates the new version beside its instance and
 * switches between calls: milliseconds), or, when a thread is too busy to do so in time, on a
 * new pool of threads while the old one finishes its calls (blue/green).
 */
export class VersionSwitch {
  readonly #table: ThreadTable;
  readonly #hooks: VersionSwitchHooks;
  #compiled: CompiledModule;
  #version: number;
  /** Numbers in-place steps, so a thread's answer is matched to its step. */
  #ids = 0;

  constructor(
    table: ThreadTable,
    serving: { compiled: CompiledModule; version: number },
    hooks: VersionSwitchHooks,
  ) {
    this.#table = table;
    this.#compiled = serving.compiled;
    this.#version = serving.version;
    this.#hooks = hooks;
  }

  get compiled(): CompiledModule {
    return this.#compiled;
  }

  get version(): number {
    return this.#version;
  }

  /** Starts the first pool and serves with it. */
  async start(): Promise<void> {
    this.#table.serveWith(await this.#table.start(this.#data(this.#compiled, this.#version)));
  }

  /** Serves `compiled` as `version`: in the running threads if they switch in time, else on new ones. */
  async to(compiled: CompiledModule, version: number): Promise<void> {
    if (!(await this.#inPlace(compiled, version))) await this.#newPool(compiled, version);
  }

  /** Replaces every thread with a fresh one serving the same version (a supervisor restart). */
  replaceThreads(): Promise<void> {
    return this.#newPool(this.#compiled, this.#version);
  }

  /**
   * Switches a thread that started with an earlier version of its pool to the current one, the
   * way a reload switches running threads; it takes no calls until then. (Terminating it would
   * not do: piscina stops replacing threads once one dies while starting.)
   */
  catchUp(link: ThreadLink<PendingCall>): void {
    const { pool } = link;
    const version = pool.version;
    const id = ++this.#ids;
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
          this.catchUp(link); // another version came meanwhile
          return;
        }
        link.commit(id, version);
        link.serving = true;
        this.#hooks.onThreadReady();
      },
      (error: unknown) => {
        debug('thread %d could not switch to version %d: %s', link.threadId, version, error);
        link.abort(id);
        this.#table.terminate(link, 'reload');
      },
    );
  }

  /**
   * Has every thread of the current pool instantiate (and probe) the new version next to the
   * serving one, then switch between calls: no new threads. Calls not started yet, already
   * posted or not, run on the new version. Resolves false (nothing changed) when a thread did
   * not answer within IN_PLACE_WAIT_MS, busy with a long call, or exited before answering: then
   * a new pool is started instead. Rejects with the new version's error.
   */
  async #inPlace(compiled: CompiledModule, version: number): Promise<boolean> {
    const pool = this.#table.pool;
    const links = this.#table.linksOf(pool);
    if (links.length === 0) return false;
    const id = ++this.#ids;
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
    if (!this.#hooks.serving() || this.#table.pool !== pool) {
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
    for (const link of this.#table.linksOf(pool)) {
      if (link.version !== version && !links.includes(link)) this.catchUp(link);
    }
    debug('version %d serving in place on %d threads', version, links.length);
    return true;
  }

  /** Brings up a new pool, routes new calls to it; the old one retires once its calls are done. */
  async #newPool(compiled: CompiledModule, version: number): Promise<void> {
    const next = await this.#table.start(this.#data(compiled, version));
    if (!this.#hooks.serving()) {
      await next.destroy();
      return;
    }
    const old = this.#table.serveWith(next);
    this.#compiled = compiled;
    this.#version = version;
    this.#hooks.onPoolSwapped(old);
  }

  #data(compiled: CompiledModule, version: number): ThreadData {
    return this.#hooks.threadData(compiled, version);
  }
}
