/** The public types of `Lattice`: options, per-call options, results, events, jobs. */
import type { ModuleSettings } from '../server/sidecar.js';
import type { WorkerCallOptions } from '../supervisor/worker-types.js';
import type {
  BytesInput,
  CallInput,
  CallOptions,
  ImageInput,
  ResultKind,
  ResultTypes,
  RgbImage,
} from '../types.js';
import type { HostStatus } from './host-status.js';
import type { NatsConnectOptions } from './nats-connection.js';

/** Options of {@link Lattice.connect}. */
export interface LatticeOptions extends NatsConnectOptions {
  /** The lattice's name: its subjects and buckets are prefixed by it. Default: `'default'`. */
  name?: string;
  /**
   * How long a host has to acknowledge a call (and to answer a liveness ping while it runs one)
   * before it counts as lost, in ms. Default: 250.
   */
  ackTimeoutMs?: number;
  /** Hosts send a heartbeat this often; three missed ones and a host is gone. Default: 1000. */
  heartbeatMs?: number;
  /**
   * How long a job whose host died waits before another host runs it, in ms (fixed when the
   * lattice's job queue is first created). Default: 10000.
   */
  jobAckWaitMs?: number;
  /** JetStream replicas of the lattice's buckets and job stream (3 on a 3-node cluster). Default: 1. */
  replicas?: number;
}

/** Per-call options of {@link Lattice.callFunction}: those of `Worker.callFunction`, plus one. */
export interface LatticeCallOptions<
  R extends ResultKind = ResultKind,
> extends WorkerCallOptions<R> {
  /** Overrides the lattice's `ackTimeoutMs` for this call. */
  ackTimeoutMs?: number;
}

/** Facts about a lattice call, from {@link Lattice.callFunctionWithInfo}. */
export interface LatticeCallInfo {
  /** The host that served it. */
  host: string;
  /** The lattice version of the module that served it, and its sha256. */
  version: number;
  hash: string | undefined;
  /** Hosts the call was sent to (more than 1 after a re-route or a retry). */
  attempts: number;
}

/**
 * `callFunction`'s overloads, as for `Worker.callFunction`, with the module first: the result
 * type follows the input and `options.returns`.
 */
export interface LatticeCallFunction<Options extends CallOptions = LatticeCallOptions> {
  (
    module: string,
    fn: string,
    input: BytesInput,
    options?: Options & CallOptions<'bytes'>,
  ): Promise<Buffer>;
  <T = unknown>(
    module: string,
    fn: string,
    input: CallInput,
    options?: Options & CallOptions<'json'>,
  ): Promise<T>;
  (
    module: string,
    fn: string,
    input: CallInput,
    options: Options & CallOptions<'bytes'>,
  ): Promise<Buffer>;
  (
    module: string,
    fn: string,
    input: ImageInput,
    options: Options & CallOptions<'rgb'>,
  ): Promise<RgbImage>;
  (
    module: string,
    fn: string,
    input: ImageInput,
    options: Options & CallOptions<'png' | 'jpeg' | 'webp'>,
  ): Promise<Buffer>;
  <R extends ResultKind>(
    module: string,
    fn: string,
    input: CallInput,
    options?: Options & CallOptions<R>,
  ): Promise<ResultTypes<unknown>[R]>;
}

/** Options of {@link Lattice.deploy} and {@link Lattice.undeploy}. */
export interface DeployOptions {
  /** The module's settings, in the sidecar format. Default: `{}` (each host's defaults). */
  settings?: ModuleSettings;
  /** How long to wait for every live host to report, in ms. Default: 30000. */
  timeoutMs?: number;
  /** Called as each host reports (for progress output). */
  onReport?: (report: HostDeployReport) => void;
  signal?: AbortSignal;
}

/** One host's outcome of a deploy. */
export interface HostDeployReport {
  host: string;
  module: string;
  version: number;
  /**
   * `serving` the version, `undeployed` it, `rejected` it (the previous version keeps serving),
   * or `skipped` it (the host serves only some modules: `serve --modules`).
   */
  outcome: 'serving' | 'undeployed' | 'rejected' | 'skipped';
  error?: { code: string; message: string };
}

/** What a deploy or undeploy did, lattice-wide. */
export interface DeployResult {
  module: string;
  version: number;
  hash: string;
  /** Every host that was live when the deploy started, with its outcome. */
  hosts: HostDeployReport[];
}

/** Events of a {@link Lattice}, from the hosts' heartbeats and deploy reports. */
export interface LatticeEvents {
  /** A host joined (or was heard from for the first time). */
  'host-up': [status: HostStatus];
  /** A host left: it drained (`left`), went silent for 3 heartbeats, or stopped answering (`lost`). */
  'host-down': [event: { id: string; reason: 'left' | 'silent' | 'lost' }];
  /** A host applied (or rejected) a deploy. */
  deploy: [report: HostDeployReport];
  /** The connection to NATS dropped (`false`) or came back (`true`). */
  connection: [connected: boolean];
}

/** Options of {@link Lattice.enqueue}. */
export interface EnqueueOptions {
  /** How to read the result (as for calls). Default: by input, as for calls. */
  returns?: ResultKind;
  /** Running time allowed per attempt, in ms. Default: the module's. */
  timeoutMs?: number;
  /** Attempts before the job is dead. Default: 3. */
  maxAttempts?: number;
}

/** A job's state: `queued` (also between attempts), `running`, `done` or `dead`. */
export interface JobState {
  id: string;
  state: 'queued' | 'running' | 'done' | 'dead';
  module: string;
  fn: string;
  attempts: number;
  maxAttempts: number;
  /** The host of the last attempt. */
  host?: string;
  /** The result, once `done`: JSON as is, bytes and images as Buffers. */
  result?: unknown;
  /** The last attempt's error (a dead job's reason). */
  error?: { code: string; message: string };
  createdAt: string;
  updatedAt: string;
}
