import { hostname, loadavg } from 'node:os';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { Objm } from '@nats-io/obj';
import type { FastifyBaseLogger } from 'fastify';
import type { ModuleRegistry } from '../server/module-registry.js';
import { HostCallServer } from './host-call-server.js';
import { JobQueue } from './job-queue.js';
import { JobRunner, type JobCall } from './job-runner.js';
import type { HostModule, HostStatus } from './host-status.js';
import type { HostDeployReport } from './lattice-types.js';
import { ModuleStore, recordOf } from './module-store.js';
import { ModuleSync } from './module-sync.js';
import { PayloadStore } from './payload-store.js';
import type { LatticeNames } from './subjects.js';

/** What a {@link LatticeHost} is made of. */
export interface LatticeHostParts {
  nc: NatsConnection;
  names: LatticeNames;
  hostId: string;
  /** The gateway's registry: the host serves through it. */
  modules: ModuleRegistry;
  /** The registry's folder: the host writes lattice modules there. */
  folder: string;
  log: FastifyBaseLogger;
  heartbeatMs: number;
  replicas: number;
  /** Which modules this host serves (`serve --modules`); default: all. */
  places?: (module: string) => boolean;
  /** Runs a job's call (through the lattice); no jobs are taken without it. */
  jobCall?: JobCall;
  /** Jobs this host runs at once. Default: 8. */
  jobConcurrency?: number;
  /** The gateway's URL, shown by `hosts()`. */
  url?: () => string | undefined;
}

/**
 * This process as a member of the lattice: it loads the current version of every module from
 * the store before it takes calls, follows later deploys, serves calls for the modules it has
 * (module queue groups and its own subject), answers pings and discovery, and sends heartbeats.
 * {@link drain} leaves without failing a call.
 */
export class LatticeHost {
  readonly #parts: LatticeHostParts;
  readonly #store: ModuleStore;
  readonly #sync: ModuleSync;
  readonly #server: HostCallServer;
  readonly #moduleSubs = new Map<string, Subscription>();
  readonly #subs: Subscription[] = [];
  readonly #startedAt = new Date().toISOString();
  #heartbeat: NodeJS.Timeout | undefined;
  #state: HostStatus['state'] = 'serving';
  /** False while the current versions load: no calls are taken before. */
  #joined = false;
  #stopWatch: (() => void) | undefined;
  readonly #jobs: JobRunner | undefined;

  private constructor(
    parts: LatticeHostParts,
    store: ModuleStore,
    payloads: PayloadStore,
    jobs: JobQueue | undefined,
  ) {
    this.#parts = parts;
    this.#jobs =
      jobs && parts.jobCall
        ? new JobRunner({
            queue: jobs,
            names: parts.names,
            hostId: parts.hostId,
            call: parts.jobCall,
            payloads,
            log: parts.log,
            concurrency: parts.jobConcurrency ?? 8,
          })
        : undefined;
    this.#store = store;
    this.#sync = new ModuleSync({
      store,
      modules: parts.modules,
      folder: parts.folder,
      log: parts.log,
      hostId: parts.hostId,
      onApplied: (report) => this.#applied(report),
      ...(parts.places ? { places: parts.places } : {}),
    });
    this.#server = new HostCallServer({
      nc: parts.nc,
      hostId: parts.hostId,
      modules: parts.modules,
      payloads,
      latticeVersion: (module, hash) => this.#sync.versionOf(module, hash),
    });
  }

  /** Joins: loads every module of the store, then takes calls and starts its heartbeat. */
  static async join(parts: LatticeHostParts): Promise<LatticeHost> {
    const { nc, names, replicas } = parts;
    const [store, payloadBucket] = await Promise.all([
      ModuleStore.open(nc, names, replicas),
      new Objm(nc).create(names.payloadBucket, { replicas, ttl: 24 * 60 * 60 * 1e9 }),
    ]);
    const payloads = new PayloadStore(payloadBucket, nc.info?.max_payload ?? 1024 * 1024);
    const jobs = parts.jobCall ? await JobQueue.open(nc, names, replicas, payloads) : undefined;
    const host = new LatticeHost(parts, store, payloads, jobs);
    await host.#start();
    return host;
  }

  get id(): string {
    return this.#parts.hostId;
  }

  /** The lattice version of a module this host serves, from the hash of what it runs. */
  versionOf(module: string, hash: string | undefined): number {
    return this.#sync.versionOf(module, hash);
  }

  async #start(): Promise<void> {
    const { nc, names, hostId, log } = this.#parts;
    // Watching first, so no deploy between the read and the watch is missed (applying is
    // idempotent: the watch replays what the read found).
    const watch = await this.#store.watch();
    this.#stopWatch = () => watch.stop();
    const records = await this.#store.records();
    await Promise.all(records.map((record) => this.#sync.apply(record)));
    this.#joined = true;
    for (const module of this.#parts.modules.list()) {
      if (module.state === 'serving') this.#takeCalls(module.name);
    }
    void (async () => {
      for await (const entry of watch) {
        const record = recordOf(entry);
        if (record) void this.#sync.apply(record);
      }
    })();
    this.#subs.push(
      nc.subscribe(names.hostPing(hostId), {
        callback: (_e, msg) => {
          msg.respond();
        },
      }),
      nc.subscribe(names.discover, {
        callback: (_e, msg) => {
          msg.respond(JSON.stringify(this.status()));
        },
      }),
      nc.subscribe(names.hostCall(hostId, '*'), {
        callback: (_e, msg) => void this.#server.serve(msg, lastToken(msg.subject)),
      }),
    );
    this.#heartbeat = setInterval(() => this.#beat(), this.#parts.heartbeatMs).unref();
    this.#beat();
    await this.#jobs?.start();
    log.info(
      { host: hostId, lattice: names.lattice, modules: records.length },
      'joined the lattice',
    );
  }

  /** This host's status, as heartbeats and `hosts()` show it. */
  status(): HostStatus {
    const modules: HostModule[] = this.#parts.modules.list().map((m) => {
      const stats = m.worker?.stats();
      return {
        name: m.name,
        version: this.#sync.versionOf(m.name, m.hash),
        hash: m.hash,
        state: m.state,
        threads: stats?.threads.alive ?? 0,
        queued: stats?.queued ?? 0,
        running: stats?.running ?? 0,
        ...(m.error ? { error: { code: m.error.code, message: m.error.message } } : {}),
      };
    });
    return {
      id: this.#parts.hostId,
      state: this.#state,
      url: this.#parts.url?.(),
      pid: process.pid,
      hostname: hostname(),
      startedAt: this.#startedAt,
      heartbeatAt: new Date().toISOString(),
      inFlight: this.#server.inFlight,
      served: this.#server.served,
      loadAverage: loadavg()[0] ?? 0,
      modules,
    };
  }

  /**
   * Leaves the lattice without failing a call: says it is leaving, stops taking calls
   * (`sub.drain()`: calls already delivered are still served), waits for its calls in flight
   * (up to `timeoutMs`), then says goodbye. The caller then closes its gateway and drains the
   * connection; pings are answered until then, so callers do not count this host lost.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#state === 'draining') return;
    const { nc, names, hostId, log } = this.#parts;
    this.#state = 'draining';
    clearInterval(this.#heartbeat);
    this.#stopWatch?.();
    nc.publish(names.bye(hostId), 'leaving');
    const [, discover, direct] = this.#subs;
    await Promise.all([...this.#moduleSubs.values(), discover!, direct!].map((s) => s.drain()));
    this.#moduleSubs.clear();
    // Jobs this host holds finish (or are redelivered elsewhere after it left).
    await Promise.all([this.#server.idle(timeoutMs), this.#jobs?.stop(timeoutMs)]);
    nc.publish(names.bye(hostId), 'gone');
    await nc.flush().catch(() => undefined);
    log.info({ host: hostId }, 'left the lattice');
  }

  #applied(report: HostDeployReport): void {
    const { nc, names } = this.#parts;
    const { module } = report;
    // Serving a module: join its queue group; undeployed: leave it.
    if (report.outcome === 'serving' && this.#joined) this.#takeCalls(module);
    else if (report.outcome === 'undeployed') {
      this.#moduleSubs.get(module)?.unsubscribe();
      this.#moduleSubs.delete(module);
    }
    this.#beat();
    nc.publish(names.deployReports, JSON.stringify(report));
  }

  #takeCalls(module: string): void {
    const { nc, names } = this.#parts;
    if (this.#moduleSubs.has(module) || this.#state !== 'serving') return;
    this.#moduleSubs.set(
      module,
      nc.subscribe(names.call(module), {
        queue: names.callQueue,
        callback: (_e, msg) => void this.#server.serve(msg, module),
      }),
    );
  }

  #beat(): void {
    const { nc, names, hostId } = this.#parts;
    // Not before it takes calls: a status naming its modules would draw calls to it.
    if (nc.isClosed() || this.#state !== 'serving' || !this.#joined) return;
    nc.publish(names.heartbeat(hostId), JSON.stringify(this.status()));
  }
}

function lastToken(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}
