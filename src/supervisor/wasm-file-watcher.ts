import { EventEmitter } from 'node:events';
import { basename, dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/** Options for {@link WasmFileWatcher}. */
export interface WatchOptions {
  /** The file's size must stay unchanged this long before it is read (chokidar `awaitWriteFinish`). */
  stabilityMs: number;
  /** Events closer together than this are one deploy. */
  debounceMs: number;
}

/** Events of a {@link WasmFileWatcher}. */
export interface WatcherEvents {
  /** The file was written, replaced, re-created or touched, and has stopped changing. */
  change: [];
  /** The file is gone (the running version keeps serving). */
  remove: [];
  error: [error: unknown];
  ready: [];
}

/**
 * Watches one .wasm file for every way people deploy it: overwrite in place, `cp`, write to a
 * temporary file and `rename` over it (a new inode), `touch`, delete then re-create. It watches
 * the file's directory, not the inode, so a rename is seen; it waits for writes to finish, and
 * collapses a burst of events into one `change`.
 */
export class WasmFileWatcher extends EventEmitter<WatcherEvents> {
  readonly path: string;
  readonly #watcher: FSWatcher;
  readonly #debounceMs: number;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #ready = false;

  constructor(file: string, options: WatchOptions) {
    super();
    this.path = resolve(file);
    this.#debounceMs = options.debounceMs;
    const name = basename(this.path);
    this.#watcher = watch(dirname(this.path), {
      depth: 0,
      ignoreInitial: true,
      // Only our file: other files in a deploy folder (temporary files too) are not ours.
      ignored: (path: string) => path !== this.path && path !== dirname(this.path),
      awaitWriteFinish: { stabilityThreshold: options.stabilityMs, pollInterval: 10 },
      // A delete followed by a re-create within 100 ms is reported as one change.
      atomic: true,
    });
    this.#watcher.on('all', (event, path) => {
      if (basename(path) !== name) return;
      if (event === 'add' || event === 'change') this.#schedule();
      else if (event === 'unlink') this.emit('remove');
    });
    this.#watcher.on('error', (error) => this.emit('error', error));
    this.#watcher.on('ready', () => {
      this.#ready = true;
      this.emit('ready');
    });
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.emit('change');
    }, this.#debounceMs);
  }

  /** Resolves once watching has begun (events before that are not seen). */
  whenReady(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#ready) resolve();
      else this.once('ready', resolve);
    });
  }

  /** Stops watching and releases every file handle. Idempotent. */
  close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#closing ??= this.#watcher.close();
    return this.#closing;
  }
}
