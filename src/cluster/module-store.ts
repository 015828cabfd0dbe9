import type { NatsConnection, QueuedIterator } from '@nats-io/nats-core';
import { Kvm, type KV, type KvEntry, type KvWatchEntry } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { ModuleSettings } from '../server/sidecar.js';
import { sha256 } from '../util/sha256.js';
import type { LatticeNames } from './subjects.js';

/** A module's current deploy, as stored in the lattice's deploy bucket. */
export interface DeployRecord {
  name: string;
  /** Lattice-wide version: 1 for the first deploy, +1 per deploy or undeploy. Never goes back. */
  version: number;
  /** sha256 of the bytes (hex); every host serves this version with these bytes. */
  hash: string;
  size: number;
  /** The sidecar settings deployed with it (each host's defaults fill in the rest). */
  settings: ModuleSettings;
  deployedAt: string;
  /** Set when the module was undeployed (the record stays so versions keep increasing). */
  undeployed?: boolean;
}

/** Where a lattice keeps its modules: bytes in an object store, deploy records in a KV bucket. */
export class ModuleStore {
  readonly #objects: ObjectStore;
  readonly #records: KV;

  private constructor(objects: ObjectStore, records: KV) {
    this.#objects = objects;
    this.#records = records;
  }

  /** Opens (creating if needed) the lattice's buckets. */
  static async open(
    nc: NatsConnection,
    names: LatticeNames,
    replicas: number,
  ): Promise<ModuleStore> {
    const [objects, records] = await Promise.all([
      new Objm(nc).create(names.moduleBucket, { replicas }),
      new Kvm(nc).create(names.deployBucket, { replicas, history: 5 }),
    ]);
    return new ModuleStore(objects, records);
  }

  /**
   * Stores `bytes` as the next version of `name`. The version is claimed with a compare-and-set
   * on the record's revision, so two deploys at once get two different versions.
   */
  async deploy(name: string, bytes: Uint8Array, settings: ModuleSettings): Promise<DeployRecord> {
    const hash = sha256(bytes);
    // Bytes first: a host that sees the record finds its bytes (it checks the hash).
    await this.#objects.putBlob({ name }, bytes);
    for (;;) {
      const current = await this.#records.get(name);
      const previous = current?.operation === 'PUT' ? current.json<DeployRecord>() : undefined;
      const record: DeployRecord = {
        name,
        version: (previous?.version ?? 0) + 1,
        hash,
        size: bytes.byteLength,
        settings,
        deployedAt: new Date().toISOString(),
      };
      if (await this.#claim(name, record, current)) return record;
    }
  }

  /** Marks `name` undeployed (as a new version); undefined if it was not deployed. */
  async undeploy(name: string): Promise<DeployRecord | undefined> {
    for (;;) {
      const current = await this.#records.get(name);
      if (current?.operation !== 'PUT') return undefined;
      const previous = current.json<DeployRecord>();
      if (previous.undeployed) return undefined;
      const record: DeployRecord = {
        ...previous,
        version: previous.version + 1,
        deployedAt: new Date().toISOString(),
        undeployed: true,
      };
      if (await this.#claim(name, record, current)) {
        await this.#objects.delete(name).catch(() => undefined);
        return record;
      }
    }
  }

  async #claim(name: string, record: DeployRecord, current: KvEntry | null): Promise<boolean> {
    const data = JSON.stringify(record);
    try {
      if (current === null) await this.#records.create(name, data);
      else await this.#records.update(name, data, current.revision);
      return true;
    } catch (error) {
      // Another deploy took that revision first: read again and take the next version.
      if (/wrong last sequence|key exists/i.test((error as Error).message)) return false;
      throw error;
    }
  }

  /** Every module's current record (undeployed ones included). */
  async records(): Promise<DeployRecord[]> {
    const names: string[] = [];
    for await (const key of await this.#records.keys()) names.push(key);
    const entries = await Promise.all(names.map((name) => this.#records.get(name)));
    return entries.flatMap((e) => (e?.operation === 'PUT' ? [e.json<DeployRecord>()] : []));
  }

  /** The bytes of a record, or undefined if the store holds other bytes now (a newer deploy). */
  async bytes(record: DeployRecord): Promise<Uint8Array | undefined> {
    const bytes = await this.#objects.getBlob(record.name);
    if (!bytes || sha256(bytes) !== record.hash) return undefined;
    return bytes;
  }

  /** Every change of a record from now on (the current ones are replayed first). */
  async watch(): Promise<QueuedIterator<KvWatchEntry>> {
    return this.#records.watch();
  }
}

/** The record in a watch entry, if it is one. */
export function recordOf(entry: KvEntry): DeployRecord | undefined {
  return entry.operation === 'PUT' ? entry.json<DeployRecord>() : undefined;
}
