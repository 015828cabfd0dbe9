import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { FastifyBaseLogger } from 'fastify';
import { serializeError } from '../errors.js';
import type { CallInput, ResultKind } from '../types.js';
import { decodeCall, H } from './call-codec.js';
import { defaultReturns } from './host-call-server.js';
import {
  JOB_CONSUMER,
  JOB_ID,
  JOB_MAX_ATTEMPTS,
  type JobQueue,
  type StoredJob,
} from './job-queue.js';
import type { PayloadStore } from './payload-store.js';
import type { LatticeNames } from './subjects.js';

/** Runs one job's call (on this host or, routed, on another that serves the module). */
export type JobCall = (
  module: string,
  fn: string,
  input: CallInput,
  options: { returns: ResultKind; timeoutMs?: number },
) => Promise<unknown>;

/** Results up to this size are kept in the job's state; larger ones in the payload store. */
const INLINE_RESULT_BYTES = 256 * 1024;

/**
 * A host's share of the job queue: pulls jobs from the lattice's work-queue consumer, runs each
 * through the lattice (so any host can take any job), and acknowledges it only once it succeeded
 * or is dead. A failed attempt is redelivered (after a short back-off) until `maxAttempts`; a
 * host that dies mid-job stops extending its claim, and the job is redelivered after the
 * consumer's ack wait. At least once: a job whose host died after running it runs again.
 */
export class JobRunner {
  readonly #queue: JobQueue;
  readonly #names: LatticeNames;
  readonly #hostId: string;
  readonly #call: JobCall;
  readonly #payloads: PayloadStore;
  readonly #log: FastifyBaseLogger;
  readonly #concurrency: number;
  readonly #running = new Set<Promise<void>>();
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  #ackWaitMs = 10_000;

  constructor(parts: {
    queue: JobQueue;
    names: LatticeNames;
    hostId: string;
    call: JobCall;
    payloads: PayloadStore;
    log: FastifyBaseLogger;
    concurrency: number;
  }) {
    this.#queue = parts.queue;
    this.#names = parts.names;
    this.#hostId = parts.hostId;
    this.#call = parts.call;
    this.#payloads = parts.payloads;
    this.#log = parts.log;
    this.#concurrency = parts.concurrency;
  }

  /** Starts pulling jobs. */
  async start(): Promise<void> {
    const consumer = await this.#queue.js.consumers.get(this.#names.jobStream, JOB_CONSUMER);
    const info = await consumer.info(true);
    this.#ackWaitMs = info.config.ack_wait ? info.config.ack_wait / 1e6 : this.#ackWaitMs;
    this.#messages = await consumer.consume({ max_messages: this.#concurrency });
    const messages = this.#messages;
    this.#loop = (async () => {
      for await (const msg of messages) {
        const running = this.#run(msg).finally(() => this.#running.delete(running));
        this.#running.add(running);
        // No more jobs held than it runs at once.
        while (this.#running.size >= this.#concurrency) await Promise.race(this.#running);
      }
    })();
  }

  /** Stops pulling, and waits for the jobs it holds (up to `timeoutMs`). */
  async stop(timeoutMs: number): Promise<void> {
    await this.#messages?.close();
    await Promise.race([
      Promise.all([...this.#running, this.#loop]),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
  }

  async #run(msg: JsMsg): Promise<void> {
    const id = msg.headers?.get(JOB_ID) ?? '';
    const maxAttempts = Number(msg.headers?.get(JOB_MAX_ATTEMPTS) || 3);
    const attempt = msg.info.deliveryCount;
    const module = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    const base = await this.#queue.read(id).catch(() => undefined);
    if (!base) {
      msg.term('unknown job'); // its state expired: nobody can read a result any more
      return;
    }
    const ref = msg.headers?.get(H.ref) || undefined;
    const save = (changes: Partial<StoredJob>) =>
      this.#queue.write({ ...base, ...changes, updatedAt: new Date().toISOString() });
    if (attempt > maxAttempts) {
      // Its last attempt's host died: no attempt is left.
      await save({
        state: 'dead',
        attempts: maxAttempts,
        error: base.error ?? {
          code: 'ERR_HOST_LOST',
          message: 'The host running the last attempt was lost.',
        },
      });
      msg.term();
      if (ref) this.#payloads.discard(ref);
      return;
    }
    await save({ state: 'running', attempts: attempt, host: this.#hostId });
    // Tells the stream this host still works on it, so it is not redelivered meanwhile.
    const keepalive = setInterval(() => msg.working(), this.#ackWaitMs / 3);
    try {
      const call = await decodeCall(msg.headers, msg.data, this.#payloads);
      const returns = call.returns ?? defaultReturns(call.input);
      const result = await this.#call(module, call.fn, call.input, {
        returns,
        ...(call.timeoutMs !== undefined ? { timeoutMs: call.timeoutMs } : {}),
      });
      await save({
        state: 'done',
        attempts: attempt,
        host: this.#hostId,
        returns,
        ...(await this.#stored(result, returns)),
        error: undefined,
      });
      msg.ack();
      if (ref) this.#payloads.discard(ref);
    } catch (error) {
      const { code, message } = serializeError(error);
      const dead = attempt >= maxAttempts;
      await save({
        state: dead ? 'dead' : 'queued',
        attempts: attempt,
        host: this.#hostId,
        error: { code, message },
      });
      this.#log.warn(
        { job: id, attempt, code },
        dead ? 'job dead' : 'job attempt failed; it will run again',
      );
      if (dead) {
        msg.term();
        if (ref) this.#payloads.discard(ref);
      } else msg.nak(250 * attempt);
    } finally {
      clearInterval(keepalive);
    }
  }

  async #stored(result: unknown, returns: ResultKind): Promise<Partial<StoredJob>> {
    if (returns === 'json' || returns === 'msgpack') return { result };
    const bytes =
      returns === 'rgb' ? (result as { pixels: Uint8Array }).pixels : (result as Uint8Array);
    if (bytes.byteLength <= INLINE_RESULT_BYTES)
      return { result: Buffer.from(bytes).toString('base64') };
    return { resultRef: await this.#payloads.put(bytes) };
  }
}
