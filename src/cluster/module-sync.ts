import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { ModuleRegistry } from '../server/module-registry.js';
import type { HostDeployReport } from './lattice-types.js';
import type { DeployRecord, ModuleStore } from './module-store.js';

/**
 * Makes this host serve what the lattice's module store says, through the gateway's own deploy
 * path: each record's bytes and settings are written into the host's private module folder and
 * the {@link ModuleRegistry} reconciles it (deploy, hot reload, or undeploy, with its
 * validation). Records are applied one at a time per module and only if newer than the last
 * one seen, so versions never go backwards.
 */
export class ModuleSync {
  readonly #store: ModuleStore;
  readonly #modules: ModuleRegistry;
  readonly #folder: string;
  readonly #log: FastifyBaseLogger;
  readonly #hostId: string;
  readonly #onApplied: (report: HostDeployReport) => void;
  readonly #places: (module: string) => boolean;
  readonly #seen = new Map<string, number>();
  readonly #chains = new Map<string, Promise<void>>();
  /** module → hash → lattice version, for the versions this host has served. */
  readonly #versions = new Map<string, Map<string, number>>();

  constructor(parts: {
    store: ModuleStore;
    modules: ModuleRegistry;
    folder: string;
    log: FastifyBaseLogger;
    hostId: string;
    onApplied: (report: HostDeployReport) => void;
    /** Whether this host serves `module` (`serve --modules`); default: every module. */
    places?: (module: string) => boolean;
  }) {
    this.#places = parts.places ?? (() => true);
    this.#store = parts.store;
    this.#modules = parts.modules;
    this.#folder = parts.folder;
    this.#log = parts.log;
    this.#hostId = parts.hostId;
    this.#onApplied = parts.onApplied;
  }

  /** The lattice version of `module` with `hash`, as this host applied it (0 if unknown). */
  versionOf(module: string, hash: string | undefined): number {
    return (hash && this.#versions.get(module)?.get(hash)) || 0;
  }

  /** Applies `record` after any apply of the same module still running. */
  apply(record: DeployRecord): Promise<void> {
    const previous = this.#chains.get(record.name) ?? Promise.resolve();
    const next = previous
      .then(() => this.#apply(record))
      .catch((error: unknown) =>
        this.#log.error({ err: error, module: record.name }, 'applying a lattice deploy failed'),
      );
    this.#chains.set(record.name, next);
    return next;
  }

  async #apply(record: DeployRecord): Promise<void> {
    const { name, version } = record;
    if (version <= (this.#seen.get(name) ?? 0)) return;
    const log = this.#log.child({ module: name, version });
    if (!this.#places(name)) {
      this.#seen.set(name, version);
      this.#onApplied({ host: this.#hostId, module: name, version, outcome: 'skipped' });
      return;
    }
    const wasm = join(this.#folder, `${name}.wasm`);
    const sidecar = join(this.#folder, `${name}.json`);
    if (record.undeployed) {
      this.#seen.set(name, version);
      await rm(wasm, { force: true });
      await rm(sidecar, { force: true });
      await this.#modules.sync(name);
      log.info('undeployed from the lattice');
      this.#onApplied({ host: this.#hostId, module: name, version, outcome: 'undeployed' });
      return;
    }
    const bytes = await this.#store.bytes(record);
    // Other bytes in the store: a newer deploy is on its way and will be applied instead.
    if (bytes === undefined) return;
    this.#seen.set(name, version);
    let versions = this.#versions.get(name);
    if (!versions) this.#versions.set(name, (versions = new Map()));
    versions.set(record.hash, version);
    // Written aside and renamed: the registry never reads a half-written file.
    // No rollback of its own unless the deploy asks for it: a host that restored the previous
    // content by itself would serve another hash than the lattice's version.
    await writeFile(`${sidecar}.tmp`, JSON.stringify({ rollback: false, ...record.settings }));
    await writeFile(`${wasm}.tmp`, bytes);
    await rename(`${sidecar}.tmp`, sidecar);
    await rename(`${wasm}.tmp`, wasm);
    await this.#modules.sync(name);
    const served = this.#modules.get(name);
    if (served?.state === 'serving' && served.hash === record.hash) {
      log.info({ hash: record.hash }, 'serving the lattice version');
      this.#onApplied({ host: this.#hostId, module: name, version, outcome: 'serving' });
    } else {
      const error = served?.error;
      log.warn({ err: error }, 'lattice version rejected on this host');
      this.#onApplied({
        host: this.#hostId,
        module: name,
        version,
        outcome: 'rejected',
        error: { code: error?.code ?? 'ERR_INTERNAL', message: error?.message ?? 'not serving' },
      });
    }
  }
}
