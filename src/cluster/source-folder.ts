import { readdir } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import { DeployFolderWatcher, moduleNameOf } from '../server/deploy-folder-watcher.js';
import { readModuleSettings } from '../server/read-module-settings.js';
import { isModuleName, readInside } from '../server/safe-path.js';
import { sha256 } from '../util/sha256.js';
import type { Lattice } from './lattice.js';

/**
 * `wasmtube serve <dir> --nats`: the folder is a deploy source for the whole lattice. At start
 * and whenever a `.wasm` or its sidecar changes, the module is deployed to the lattice (unless
 * the lattice already has those bytes and settings); a removed file undeploys it.
 */
export class SourceFolder {
  readonly #folder: string;
  readonly #lattice: Lattice;
  readonly #log: FastifyBaseLogger;
  readonly #watcher: DeployFolderWatcher;
  #queue: Promise<void> = Promise.resolve();

  constructor(folder: string, lattice: Lattice, log: FastifyBaseLogger) {
    this.#folder = folder;
    this.#lattice = lattice;
    this.#log = log;
    this.#watcher = new DeployFolderWatcher(folder, { stabilityMs: 50, debounceMs: 20 });
    this.#watcher.on('changed', (name) => void this.publish(name));
    this.#watcher.on('error', (error) =>
      log.error({ err: error }, 'watching the source folder failed'),
    );
  }

  /** Deploys every module of the folder that the lattice lacks or has in another version. */
  async start(): Promise<void> {
    await this.#watcher.whenReady();
    const names = new Set<string>();
    for (const entry of await readdir(this.#folder)) {
      const name = moduleNameOf(entry);
      if (name !== undefined && entry.endsWith('.wasm')) names.add(name);
    }
    await Promise.all([...names].map((name) => this.publish(name)));
  }

  /** Deploys (or undeploys) module `name` from the folder's files, one change at a time. */
  publish(name: string): Promise<void> {
    this.#queue = this.#queue
      .then(() => this.#publish(name))
      .catch((error: unknown) =>
        this.#log.error({ err: error, module: name }, 'deploying from the source folder failed'),
      );
    return this.#queue;
  }

  async #publish(name: string): Promise<void> {
    if (!isModuleName(name)) return;
    const bytes = await readInside(this.#folder, `${name}.wasm`);
    const current = (await this.#lattice.modules()).find((r) => r.name === name);
    if (bytes === undefined) {
      if (current) await this.#lattice.undeploy(name);
      return;
    }
    const settings = await readModuleSettings(this.#folder, name, {});
    if (
      current?.hash === sha256(bytes) &&
      JSON.stringify(current.settings) === JSON.stringify(settings)
    ) {
      return;
    }
    const result = await this.#lattice.deploy(name, bytes, { settings });
    this.#log.info(
      { module: name, version: result.version, hosts: result.hosts.map((h) => h.host) },
      'deployed from the source folder to the lattice',
    );
  }

  close(): Promise<void> {
    return this.#watcher.close();
  }
}
