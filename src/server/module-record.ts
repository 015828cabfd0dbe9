import { WasmtubeError } from '../errors.js';
import type { Worker } from '../supervisor/worker.js';
import { InternalError } from './gateway-errors.js';
import type { FunctionDescription, ModuleDescription } from './module-description.js';
import type { ModuleSettings } from './sidecar.js';

/**
 * `deploying`: its first version is starting. `serving`: it takes calls. `failed`: nothing
 * serves it (it did not deploy, or its supervisor gave up); `error` says why.
 */
export type ModuleState = 'deploying' | 'serving' | 'failed';

/** One module of the folder as the registry sees it. */
export interface DeployedModule {
  readonly name: string;
  readonly state: ModuleState;
  /** The worker serving it, when `serving`. */
  readonly worker: Worker | undefined;
  /** The version being served (1 for the first deploy, +1 per reload, rollback or redeploy). */
  readonly version: number;
  /** sha256 of the module being served. */
  readonly hash: string | undefined;
  /** Functions of the version being served, by name. */
  readonly functions: ReadonlyMap<string, FunctionDescription>;
  /** Whether the module runs with WASI. */
  readonly wasi: boolean;
  /** The effective settings: the gateway's defaults overridden by the sidecar. */
  readonly settings: ModuleSettings;
  /** The last deploy, reload or supervision failure, until a later deploy succeeds. */
  readonly error: WasmtubeError | undefined;
  readonly deployedAt: Date | undefined;
  readonly updatedAt: Date;
  /** The version that served a call, from the worker version in its `CallInfo`. */
  versionOf(workerVersion: number): number;
  /** sha256 of a version, if still known. */
  hashOf(version: number): string | undefined;
}

/** How many version → hash pairs a module remembers (for the hash response header). */
const HASH_HISTORY = 16;

/**
 * The registry's state of one module: its state, serving worker, versions and their hashes, and
 * what its last deploy was attempted with. The registry changes it; requests read it as a
 * {@link DeployedModule}.
 */
export class ModuleRecord implements DeployedModule {
  state: ModuleState = 'deploying';
  worker: Worker | undefined;
  versionBase = 1;
  functions = new Map<string, FunctionDescription>();
  wasi = false;
  settings: ModuleSettings = {};
  /** The settings a deploy was last attempted with, and the content last read. */
  settingsKey: string | undefined;
  fileHash: string | undefined;
  error: WasmtubeError | undefined;
  /** The error of the last failed read of the files, cleared by the next good read. */
  readError: WasmtubeError | undefined;
  deployedAt: Date | undefined;
  updatedAt = new Date();
  readonly #hashes = new Map<number, string>();

  constructor(readonly name: string) {}

  get version(): number {
    return this.worker ? this.versionOf(this.worker.version) : this.versionBase - 1;
  }

  get hash(): string | undefined {
    return this.worker?.hash;
  }

  versionOf(workerVersion: number): number {
    return this.versionBase + workerVersion;
  }

  hashOf(version: number): string | undefined {
    return this.#hashes.get(version);
  }

  rememberHash(version: number, hash: string): void {
    this.#hashes.set(version, hash);
    if (this.#hashes.size > HASH_HISTORY) this.#hashes.delete(this.#hashes.keys().next().value!);
  }

  touch(): void {
    this.updatedAt = new Date();
  }

  /** Serves `worker` as `version` from now on, with the settings and functions it started with. */
  swapIn(
    worker: Worker,
    version: number,
    settings: ModuleSettings,
    description: ModuleDescription,
  ): void {
    this.worker = worker;
    this.versionBase = version;
    this.state = 'serving';
    this.settings = settings;
    this.functions = new Map(description.functions.map((f) => [f.name, f]));
    this.wasi = description.wasi;
    this.error = undefined;
    this.deployedAt = new Date();
    this.touch();
    this.#hashes.clear();
    this.rememberHash(version, worker.hash);
  }

  /** Records a failure that left the version being served (if any) serving. */
  noteError(error: unknown): void {
    this.error = asWasmtubeError(error);
    this.touch();
  }

  /** Records a failure; a module that is not serving becomes `failed`. */
  fail(error: unknown): this {
    this.noteError(error);
    if (this.state !== 'serving') {
      this.state = 'failed';
      if (this.worker) this.versionBase = this.version + 1; // keeps `version` as it was
      this.worker = undefined;
    }
    return this;
  }
}

function asWasmtubeError(error: unknown): WasmtubeError {
  if (error instanceof WasmtubeError) return error;
  return new InternalError(`Deploying failed: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}
