/**
 * The names a lattice uses on NATS. Every subject starts with `wasmtube.<lattice>.` and every
 * bucket or stream with `wasmtube-<lattice>-`, so two lattices share one NATS safely.
 */
export class LatticeNames {
  readonly #prefix: string;
  readonly #bucket: string;

  constructor(readonly lattice: string) {
    this.#prefix = `wasmtube.${lattice}`;
    this.#bucket = `wasmtube-${lattice}`;
  }

  /** Calls for a module, served by a queue group of the hosts that have it. */
  call(module: string): string {
    return `${this.#prefix}.call.${module}`;
  }

  /** The queue group of the hosts serving calls. */
  get callQueue(): string {
    return `${this.#prefix}.hosts`;
  }

  /** Calls for a module sent to one host (retries, and calls that must avoid a lost host). */
  hostCall(hostId: string, module: string): string {
    return `${this.#prefix}.host.${hostId}.call.${module}`;
  }

  /** A host's liveness ping (answered by its connection's event loop, not a worker thread). */
  hostPing(hostId: string): string {
    return `${this.#prefix}.host.${hostId}.ping`;
  }

  /** Heartbeats: each host publishes its status on `heartbeat.<id>`. */
  heartbeat(hostId: string): string {
    return `${this.#prefix}.heartbeat.${hostId}`;
  }

  get heartbeats(): string {
    return `${this.#prefix}.heartbeat.*`;
  }

  /** A host leaving (SIGTERM drain) says so here before it stops taking calls. */
  bye(hostId: string): string {
    return `${this.#prefix}.bye.${hostId}`;
  }

  get byes(): string {
    return `${this.#prefix}.bye.*`;
  }

  /** Every host answers a request here with its status (`hosts()`, `wasmtube hosts`). */
  get discover(): string {
    return `${this.#prefix}.discover`;
  }

  /** Hosts report each applied (or refused) deploy here. */
  get deployReports(): string {
    return `${this.#prefix}.deployed`;
  }

  /** The job stream's subject for a module. */
  job(module: string): string {
    return `${this.#prefix}.jobs.${module}`;
  }

  get jobs(): string {
    return `${this.#prefix}.jobs.>`;
  }

  /** Object store: module bytes, by module name. */
  get moduleBucket(): string {
    return `${this.#bucket}-modules`;
  }

  /** KV: module name → its current deploy record (version, hash, settings). */
  get deployBucket(): string {
    return `${this.#bucket}-deploys`;
  }

  /** Object store: call inputs and results larger than the server's max_payload. */
  get payloadBucket(): string {
    return `${this.#bucket}-payloads`;
  }

  /** JetStream work-queue stream of jobs. */
  get jobStream(): string {
    return `${this.#bucket}-jobs`;
  }

  /** KV: job id → its state and result. */
  get jobBucket(): string {
    return `${this.#bucket}-job-state`;
  }
}

/** Lattice and host names: they become NATS subject tokens and bucket names. */
export const LATTICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
