import { EventEmitter } from 'node:events';
import { basename, dirname, extname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/** Options for {@link DeployFolderWatcher}. */
export interface FolderWatchOptions {
  /** A changed file must keep its size this long before it counts (chokidar `awaitWriteFinish`). */
  stabilityMs: number;
  /** Events for one module closer together than this are one change. */
  debounceMs: number;
}

/** Events of a {@link DeployFolderWatcher}. */
export interface FolderWatcherEvents {
  /** `<name>.wasm` or its sidecar `<name>.json` was added, changed or removed, and has settled. */
  changed: [name: string];
  error: [error: unknown];
}

/** Which files of a deploy folder matter: `*.wasm` and `*.json`, not hidden ones. */
export function moduleNameOf(file: string): string | undefined {
  const ext = extname(file);
  const name = basename(file, ext);
  if ((ext !== '.wasm' && ext !== '.json') || name === '' || name.startsWith('.')) return undefined;
  return name;
}

/**
 * Watches a deploy folder (not its subfolders) and reports, per module name, that its `.wasm` or
 * sidecar changed in any way: written, replaced by a rename, deleted, re-created. It waits for
 * writes to finish and collapses a burst of events into one. Symlinks are reported as the links
 * themselves; the registry decides whether their targets may be served.
 */
export class DeployFolderWatcher extends EventEmitter<FolderWatcherEvents> {
  readonly folder: string;
  readonly #watcher: FSWatcher;
  readonly #debounceMs: number;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #ready: Promise<void>;
  #closing: Promise<void> | undefined;

  constructor(folder: string, options: FolderWatchOptions) {
    super();
    this.folder = resolve(folder);
    this.#debounceMs = options.debounceMs;
    this.#watcher = watch(this.folder, {
      depth: 0,
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (path: string) => path !== this.folder && moduleNameOf(path) === undefined,
      awaitWriteFinish: { stabilityThreshold: options.stabilityMs, pollInterval: 10 },
      // A delete followed by a re-create within 100 ms is one change.
      atomic: true,
    });
    this.#watcher.on('all', (_event, path) => {
      if (dirname(resolve(path)) !== this.folder) return;
      const name = moduleNameOf(path);
      if (name !== undefined) this.#schedule(name);
    });
    this.#watcher.on('error', (error) => this.emit('error', error));
    this.#ready = new Promise((resolve) => this.#watcher.once('ready', resolve));
  }

  #schedule(name: string): void {
    clearTimeout(this.#timers.get(name));
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name);
        this.emit('changed', name);
      }, this.#debounceMs),
    );
  }

  /** Resolves once watching has begun (changes before that are not seen). */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  /** Stops watching and releases every handle. Idempotent. */
  close(): Promise<void> {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#closing ??= this.#watcher.close();
    return this.#closing;
  }
}
