import { EventEmitter } from 'node:events';
import { type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { Objm } from '@nats-io/obj';
import { InvalidArgumentError } from '../errors.js';
import { checkModuleName } from '../server/safe-path.js';
import { checkSettings } from '../server/sidecar.js';
import type { CallInput } from '../types.js';
import { CallClient } from './call-client.js';
import { LatticeUnavailableError } from './cluster-errors.js';
import { DeployWaiter } from './deploy-waiter.js';
import { HostLiveness } from './host-liveness.js';
import type { HostStatus } from './host-status.js';
import { HostTable } from './host-table.js';
import { JobQueue } from './job-queue.js';
import type {
  DeployOptions,
  DeployResult,
  EnqueueOptions,
  JobState,
  LatticeCallFunction,
  LatticeCallInfo,
  LatticeCallOptions,
  LatticeEvents,
  LatticeOptions,
} from './lattice-types.js';
import { ModuleStore, type DeployRecord } from './module-store.js';
import { connectNats } from './nats-connection.js';
import { PayloadStore } from './payload-store.js';
import { LATTICE_NAME, LatticeNames } from './subjects.js';

const DAY_NS = 24 * 60 * 60 * 1e9;

/**
 * A connection to a lattice of wasmtube hosts on NATS: call any module any host serves, deploy a
 * module to every host, watch hosts come and go, and queue durable jobs. See docs/cluster.md.
 *
 * @example
 * ```ts
 * import { Lattice } from 'wasmtube/cluster';
 * const lattice = await Lattice.connect({ servers: 'nats://127.0.0.1:4222' });
 * await lattice.deploy('echo', await readFile('echo.wasm'));
 * await lattice.callFunction('echo', 'echo', { data: { hi: 1 } }, { retry: 1 });
 * await lattice.close();
 * ```
 */
export class Lattice extends EventEmitter<LatticeEvents> {
  /** The lattice's name. */
  readonly name: string;
  readonly #nc: NatsConnection;
  readonly #names: LatticeNames;
  readonly #table: HostTable;
  readonly #liveness: HostLiveness;
  readonly #calls: CallClient;
  readonly #store: ModuleStore;
  readonly #jobs: JobQueue;
  readonly #ackTimeoutMs: number;
  readonly #subs: Subscription[] = [];
  readonly #sweeper: NodeJS.Timeout;
  readonly #ownsConnection: boolean;
  #connected = true;
  #closing: Promise<void> | undefined;

  private constructor(parts: {
    nc: NatsConnection;
    names: LatticeNames;
    store: ModuleStore;
    payloads: PayloadStore;
    jobs: JobQueue;
    options: Required<Pick<LatticeOptions, 'ackTimeoutMs' | 'heartbeatMs'>>;
    ownsConnection: boolean;
  }) {
    super();
    const { nc, names, options } = parts;
    this.name = names.lattice;
    this.#nc = nc;
    this.#names = names;
    this.#store = parts.store;
    this.#jobs = parts.jobs;
    this.#ownsConnection = parts.ownsConnection;
    this.#ackTimeoutMs = options.ackTimeoutMs;
    this.#table = new HostTable(options.heartbeatMs);
    this.#table.on('up', (status) => this.emit('host-up', status));
    this.#table.on('down', (event) => this.emit('host-down', event));
    this.#liveness = new HostLiveness(nc, names, options.ackTimeoutMs, (id) => {
      this.#table.markLost(id);
      this.#calls.hostLost(id);
    });
    this.#calls = new CallClient({
      nc,
      names,
      table: this.#table,
      liveness: this.#liveness,
      payloads: parts.payloads,
    });
    this.#subs.push(
      nc.subscribe(names.heartbeats, {
        callback: (error, msg) => {
          if (!error) this.#table.heard(msg.json<HostStatus>());
        },
      }),
      nc.subscribe(names.byes, {
        callback: (error, msg) => {
          if (error) return;
          const id = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
          if (msg.string() === 'leaving') this.#table.leaving(id);
          else this.#table.gone(id, 'left');
        },
      }),
    );
    this.#sweeper = setInterval(() => this.#table.sweep(), options.heartbeatMs).unref();
    void this.#watchConnection();
  }

  /**
   * Connects to NATS and opens the lattice (creating its buckets and job stream the first time),
   * then learns which hosts are there.
   * @throws `ERR_NATS_UNREACHABLE` (no server answers), `ERR_INVALID_ARGUMENT`
   */
  static async connect(options: LatticeOptions = {}): Promise<Lattice> {
    const checked = checkLatticeOptions(options);
    const nc = await connectNats(options);
    try {
      return await Lattice.open(nc, checked, true);
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /**
   * Opens the lattice on a connection the caller owns (a host shares its own); `close()` then
   * leaves the connection open.
   * @internal
   */
  static async open(
    nc: NatsConnection,
    options: LatticeOptions,
    ownsConnection = false,
  ): Promise<Lattice> {
    const checked = checkLatticeOptions(options);
    const names = new LatticeNames(checked.name);
    const replicas = checked.replicas;
    const [store, payloadBucket] = await Promise.all([
      ModuleStore.open(nc, names, replicas),
      new Objm(nc).create(names.payloadBucket, { replicas, ttl: DAY_NS }),
    ]);
    const payloads = new PayloadStore(payloadBucket, nc.info?.max_payload ?? 1024 * 1024);
    const jobs = await JobQueue.open(nc, names, replicas, payloads, checked.jobAckWaitMs);
    const lattice = new Lattice({
      nc,
      names,
      store,
      payloads,
      jobs,
      options: checked,
      ownsConnection,
    });
    for (const status of await lattice.#discover()) lattice.#table.heard(status);
    return lattice;
  }

  /** Whether the connection to NATS is up (false while it reconnects). */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Calls `fn` of `module` on a host that serves it, with the inputs, results, options and
   * errors of `Worker.callFunction`. A host lost while it runs the call fails it with
   * `ERR_HOST_LOST`, or runs it again on another host when `retry` allows.
   * @throws `ERR_MODULE_NOT_FOUND` (no host serves it), `ERR_HOST_LOST`,
   * `ERR_LATTICE_UNAVAILABLE`, and every error of `Worker.callFunction`
   */
  readonly callFunction = (async (
    module: string,
    fn: string,
    input: CallInput,
    options: LatticeCallOptions = {},
  ) => (await this.callFunctionWithInfo(module, fn, input, options)).result) as LatticeCallFunction;

  /** Like {@link callFunction}, and also tells which host and version served the call. */
  async callFunctionWithInfo<T = unknown>(
    module: string,
    fn: string,
    input: CallInput,
    options: LatticeCallOptions = {},
  ): Promise<{ result: T; info: LatticeCallInfo }> {
    checkModuleName(module);
    if (typeof fn !== 'string' || fn === '') {
      throw new InvalidArgumentError('fn must be the name of an exported function.');
    }
    this.#checkOpen();
    const ackTimeoutMs = options.ackTimeoutMs ?? this.#ackTimeoutMs;
    const served = await this.#calls.call(module, fn, input, { ...options, ackTimeoutMs });
    const { value, ...info } = served;
    return { result: value as T, info };
  }

  /**
   * Deploys `bytes` as module `name` to every host: stores them, then waits until every host
   * that was live reports serving the new version (or rejecting it).
   * @throws `ERR_DEPLOY_REJECTED` (a host refused it; `details.hosts`), `ERR_DEPLOY_TIMEOUT`
   */
  async deploy(
    name: string,
    bytes: Uint8Array,
    options: DeployOptions = {},
  ): Promise<DeployResult> {
    checkModuleName(name);
    if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) {
      throw new InvalidArgumentError('bytes must be the module as a non-empty Uint8Array.');
    }
    const settings = checkSettings(options.settings ?? {}, 'options.settings');
    this.#checkOpen();
    const waiter = await this.#deployWaiter(name, options);
    try {
      const record = await this.#store.deploy(name, bytes, settings);
      return await waiter.wait(record);
    } finally {
      waiter.close();
    }
  }

  /**
   * Removes module `name` from every host (their calls in flight finish). Resolves with
   * `undefined` when it was not deployed.
   */
  async undeploy(
    name: string,
    options: Omit<DeployOptions, 'settings'> = {},
  ): Promise<DeployResult | undefined> {
    checkModuleName(name);
    this.#checkOpen();
    const waiter = await this.#deployWaiter(name, options);
    try {
      const record = await this.#store.undeploy(name);
      return record && (await waiter.wait(record));
    } finally {
      waiter.close();
    }
  }

  /** Every module deployed in the lattice: its current version, hash and settings. */
  async modules(): Promise<DeployRecord[]> {
    this.#checkOpen();
    return (await this.#store.records()).filter((r) => !r.undeployed);
  }

  /** Every live host's status, asked of the hosts themselves (each answers within ~½ s). */
  async hosts(): Promise<HostStatus[]> {
    this.#checkOpen();
    const statuses = await this.#discover();
    for (const status of statuses) this.#table.heard(status);
    return statuses.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /**
   * Queues a durable job: it runs once on some host (at least once if a host dies during it),
   * with up to `maxAttempts` attempts. Resolves with the job's id for {@link job}.
   */
  async enqueue(
    module: string,
    fn: string,
    input: CallInput,
    options: EnqueueOptions = {},
  ): Promise<string> {
    checkModuleName(module);
    this.#checkOpen();
    return this.#jobs.enqueue(module, fn, input, options);
  }

  /**
   * A job's state and, once done, its result.
   * @throws `ERR_JOB_NOT_FOUND`
   */
  job(id: string): Promise<JobState> {
    this.#checkOpen();
    return this.#jobs.state(id);
  }

  /** Stops listening and closes the connection (if this lattice opened it). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** `await using lattice = await Lattice.connect(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#liveness.close();
    this.#calls.close();
    for (const sub of this.#subs) sub.unsubscribe();
    if (this.#ownsConnection && !this.#nc.isClosed()) await this.#nc.drain();
  }

  #checkOpen(): void {
    if (this.#closing || this.#nc.isClosed() || !this.#connected) {
      throw new LatticeUnavailableError(
        this.#closing
          ? 'The lattice connection is closed.'
          : 'The connection to NATS is down (reconnecting): lattice operations fail until it is back.',
      );
    }
  }

  async #deployWaiter(
    module: string,
    options: Omit<DeployOptions, 'settings'>,
  ): Promise<DeployWaiter> {
    const live = (await this.#discover()).filter((h) => h.state === 'serving').map((h) => h.id);
    return new DeployWaiter(this.#nc, this.#names, module, live, options, (report) => {
      this.emit('deploy', report);
      options.onReport?.(report);
    });
  }

  async #discover(): Promise<HostStatus[]> {
    const statuses: HostStatus[] = [];
    try {
      const answers = await this.#nc.requestMany(this.#names.discover, undefined, {
        strategy: 'stall',
        stall: 300,
        maxWait: 1500,
      });
      for await (const msg of answers) {
        if (msg.headers?.code === 503) break; // no host at all
        statuses.push(msg.json<HostStatus>());
      }
    } catch {
      // No responders: an empty lattice.
    }
    return statuses;
  }

  async #watchConnection(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === 'disconnect' && this.#connected) {
        this.#connected = false;
        this.#calls.disconnected();
        this.emit('connection', false);
      } else if (status.type === 'reconnect') {
        this.#connected = true;
        this.#calls.connected = true;
        this.emit('connection', true);
      }
    }
  }
}

function checkLatticeOptions(
  options: LatticeOptions,
): Required<
  Pick<LatticeOptions, 'name' | 'ackTimeoutMs' | 'heartbeatMs' | 'replicas' | 'jobAckWaitMs'>
> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options must be an object.');
  }
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || !LATTICE_NAME.test(name)) {
    throw new InvalidArgumentError(
      `options.name must match ${LATTICE_NAME} (it becomes part of NATS subjects), got ${JSON.stringify(name)}.`,
    );
  }
  const positive = (
    key: 'ackTimeoutMs' | 'heartbeatMs' | 'replicas' | 'jobAckWaitMs',
    fallback: number,
  ) => {
    const value = options[key] ?? fallback;
    if (!Number.isInteger(value) || value < 1) {
      throw new InvalidArgumentError(
        `options.${key} must be a positive integer, got ${String(value)}.`,
      );
    }
    return value;
  };
  return {
    name,
    ackTimeoutMs: positive('ackTimeoutMs', 250),
    heartbeatMs: positive('heartbeatMs', 1000),
    replicas: positive('replicas', 1),
    jobAckWaitMs: positive('jobAckWaitMs', 10_000),
  };
}
