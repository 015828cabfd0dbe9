import { nuid, type NatsConnection } from '@nats-io/nats-core';
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  type JetStreamClient,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { CallInput } from '../types.js';
import { encodeCall } from './call-codec.js';
import { JobNotFoundError } from './cluster-errors.js';
import type { EnqueueOptions, JobState } from './lattice-types.js';
import type { PayloadStore } from './payload-store.js';
import type { LatticeNames } from './subjects.js';

/** Header of a job message: its id and how many attempts it may have. */
export const JOB_ID = 'wt-job-id';
export const JOB_MAX_ATTEMPTS = 'wt-job-max-attempts';
/** The durable consumer every host pulls jobs from. */
export const JOB_CONSUMER = 'hosts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A job's state as stored: a JSON result inline, a bytes result as a payload reference. */
export interface StoredJob extends Omit<JobState, 'result'> {
  result?: unknown;
  /** The result's kind (how to read `result` or the payload it references). */
  returns?: string;
  resultRef?: string;
}

/**
 * The lattice's durable jobs: a JetStream work-queue stream (a message is removed once a host
 * acknowledges it, which a host does only after the call succeeded or the job is dead) and a KV
 * bucket of job states kept for a day.
 */
export class JobQueue {
  readonly #js: JetStreamClient;
  readonly #names: LatticeNames;
  readonly #states: KV;
  readonly #payloads: PayloadStore;

  private constructor(
    js: JetStreamClient,
    names: LatticeNames,
    states: KV,
    payloads: PayloadStore,
  ) {
    this.#js = js;
    this.#names = names;
    this.#states = states;
    this.#payloads = payloads;
  }

  /** Opens (creating if needed) the stream, its consumer and the state bucket. */
  static async open(
    nc: NatsConnection,
    names: LatticeNames,
    replicas: number,
    payloads: PayloadStore,
    ackWaitMs = 10_000,
  ): Promise<JobQueue> {
    const jsm = await jetstreamManager(nc);
    const stream = names.jobStream;
    const exists = await jsm.streams.info(stream).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await jsm.streams
        .add({
          name: stream,
          subjects: [names.jobs],
          retention: RetentionPolicy.Workqueue,
          num_replicas: replicas,
        })
        .catch(async (error: unknown) => {
          // Another member created it at the same moment.
          if (
            !(await jsm.streams.info(stream).then(
              () => true,
              () => false,
            ))
          )
            throw error;
        });
    }
    const consumer = await jsm.consumers.info(stream, JOB_CONSUMER).then(
      () => true,
      () => false,
    );
    if (!consumer) {
      await jsm.consumers
        .add(stream, {
          durable_name: JOB_CONSUMER,
          ack_policy: AckPolicy.Explicit,
          // A host that dies mid-job stops extending its claim: redelivered after this.
          ack_wait: ackWaitMs * 1e6,
          max_ack_pending: 10_000,
        })
        .catch(async (error: unknown) => {
          if (
            !(await jsm.consumers.info(stream, JOB_CONSUMER).then(
              () => true,
              () => false,
            ))
          )
            throw error;
        });
    }
    const states = await new Kvm(nc).create(names.jobBucket, { replicas, ttl: DAY_MS });
    return new JobQueue(jetstream(nc), names, states, payloads);
  }

  /** The job client hosts use to pull jobs. */
  get js(): JetStreamClient {
    return this.#js;
  }

  async enqueue(
    module: string,
    fn: string,
    input: CallInput,
    options: EnqueueOptions,
  ): Promise<string> {
    const id = nuid.next();
    const maxAttempts = options.maxAttempts ?? 3;
    const wire = await encodeCall(fn, input, options, this.#payloads);
    wire.headers.set(JOB_ID, id);
    wire.headers.set(JOB_MAX_ATTEMPTS, String(maxAttempts));
    const now = new Date().toISOString();
    await this.write({
      id,
      state: 'queued',
      module,
      fn,
      attempts: 0,
      maxAttempts,
      createdAt: now,
      updatedAt: now,
    });
    // msgID: a publish retried after a lost acknowledgement is not queued twice.
    await this.#js.publish(this.#names.job(module), wire.body, {
      msgID: id,
      headers: wire.headers,
    });
    return id;
  }

  /** A job's state, its result read back from the payload store if it was large. */
  async state(id: string): Promise<JobState> {
    const stored = await this.read(id);
    const { returns, resultRef, ...state } = stored;
    if (
      state.state === 'done' &&
      returns !== undefined &&
      returns !== 'json' &&
      returns !== 'msgpack'
    ) {
      const bytes =
        resultRef === undefined
          ? Buffer.from(String(state.result ?? ''), 'base64')
          : await this.#payloads.get(resultRef);
      state.result = bytes === undefined ? undefined : Buffer.from(bytes);
    }
    return state;
  }

  /** The stored state of a job. */
  async read(id: string): Promise<StoredJob> {
    const entry =
      typeof id === 'string' && /^[A-Za-z0-9]+$/.test(id) ? await this.#states.get(id) : null;
    if (entry?.operation !== 'PUT') {
      throw new JobNotFoundError(
        `No job has the id ${JSON.stringify(id)} (jobs are kept for a day).`,
        {
          details: { id },
        },
      );
    }
    return entry.json<StoredJob>();
  }

  /** Writes a job's state. */
  async write(state: StoredJob): Promise<void> {
    await this.#states.put(state.id, JSON.stringify(state));
  }
}
