import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { AbortError } from '../errors.js';
import { ModuleNotFoundError } from '../server/gateway-errors.js';
import type { CallInput } from '../types.js';
import {
  decodeError,
  decodeResult,
  encodeCall,
  H,
  type DecodedResult,
  type WireMessage,
} from './call-codec.js';
import { HostLostError, LatticeUnavailableError } from './cluster-errors.js';
import type { HostLiveness } from './host-liveness.js';
import type { HostTable } from './host-table.js';
import type { LatticeCallOptions } from './lattice-types.js';
import type { PayloadStore } from './payload-store.js';
import type { LatticeNames } from './subjects.js';

/** How one attempt of a call ended. */
type Outcome =
  | { kind: 'result'; result: DecodedResult }
  | { kind: 'error'; error: Error }
  /** Nothing subscribes to the subject: the call was not delivered. */
  | { kind: 'no-responders' }
  /** No host acknowledged in time: not started (a host past `ackBy` drops it). */
  | { kind: 'no-ack' }
  /** The host acknowledged, then stopped answering: the call may or may not have run. */
  | { kind: 'lost'; host: string };

/** One attempt waiting for its answers. */
interface Attempt {
  /** Stops waiting: no timer, no liveness watch, no abort listener. Idempotent. */
  detach: () => void;
  /** Detaches and resolves the attempt with its outcome. */
  settle: (outcome: Outcome) => void;
  resolve: (outcome: Outcome) => void;
  host: string | undefined;
  ackTimer: NodeJS.Timeout | undefined;
  resultBuffer: Uint8Array | undefined;
}

/** A call's result with the facts of how it was served. */
export interface RemoteResult extends DecodedResult {
  /** Hosts the call was sent to (more than 1 after a retry or a re-route). */
  attempts: number;
}

/** Calls not acknowledged by this many hosts in a row fail: something is wrong lattice-wide. */
const MAX_UNACKNOWLEDGED = 5;

/**
 * Sends calls to the lattice and waits for their answers on one inbox subscription. A call goes
 * to the module's queue group (NATS spreads them over the hosts that have it), or, when one of
 * those hosts is known to be lost or leaving, straight to the least loaded other host. A host
 * acknowledges a call at once; no acknowledgement within `ackTimeoutMs` means it was not started,
 * and it goes to another host. A host lost after acknowledging fails the call with
 * `ERR_HOST_LOST`, unless the call has `retry` left (then it runs again on another host).
 */
export class CallClient {
  readonly #nc: NatsConnection;
  readonly #names: LatticeNames;
  readonly #table: HostTable;
  readonly #liveness: HostLiveness;
  readonly #payloads: PayloadStore;
  readonly #inbox = createInbox();
  readonly #sub: Subscription;
  readonly #attempts = new Map<string, Attempt>();
  #next = 0;

  constructor(parts: {
    nc: NatsConnection;
    names: LatticeNames;
    table: HostTable;
    liveness: HostLiveness;
    payloads: PayloadStore;
  }) {
    this.#nc = parts.nc;
    this.#names = parts.names;
    this.#table = parts.table;
    this.#liveness = parts.liveness;
    this.#payloads = parts.payloads;
    this.#sub = this.#nc.subscribe(`${this.#inbox}.*`, {
      callback: (error, msg) => {
        if (!error) this.#answer(msg);
      },
    });
  }

  /** Calls `fn` of `module` on some host; see the class comment for where and how often. */
  async call(
    module: string,
    fn: string,
    input: CallInput,
    options: LatticeCallOptions & { ackTimeoutMs: number },
  ): Promise<RemoteResult> {
    if (options.signal?.aborted) {
      throw new AbortError('The lattice call was aborted before it was sent.', {
        cause: options.signal.reason,
      });
    }
    const wire = await encodeCall(fn, input, options, this.#payloads);
    const ref = wire.headers.get(H.ref) || undefined;
    try {
      return await this.#route(module, wire, options);
    } finally {
      if (ref !== undefined) this.#payloads.discard(ref);
    }
  }

  async #route(
    module: string,
    wire: WireMessage,
    options: LatticeCallOptions & { ackTimeoutMs: number },
  ): Promise<RemoteResult> {
    const tried = new Set<string>();
    let retriesLeft = options.retry ?? 0;
    let unacknowledged = 0;
    let queueTried = false;
    for (let attempts = 1; ; attempts++) {
      let host: string | undefined;
      if (attempts === 1 && !this.#table.troubled(module)) queueTried = true;
      else {
        host = this.#table.pick(module, tried);
        if (host === undefined) {
          if (queueTried) throw noHostLeft(module, tried);
          queueTried = true; // the table may lag behind: the queue group knows better
        }
      }
      const subject =
        host === undefined ? this.#names.call(module) : this.#names.hostCall(host, module);
      const outcome = await this.#attempt(subject, wire, options);
      switch (outcome.kind) {
        case 'result':
          return { ...outcome.result, attempts };
        case 'error':
          throw outcome.error;
        case 'no-responders':
          if (host === undefined) throw notFound(module);
          this.#table.gone(host, 'left');
          tried.add(host);
          break;
        case 'no-ack':
          if (++unacknowledged >= MAX_UNACKNOWLEDGED) throw noHostLeft(module, tried);
          if (host !== undefined) {
            this.#table.markLost(host);
            tried.add(host);
          } else {
            // Someone in the queue group took it and said nothing: find who is silent.
            for (const silent of await this.#liveness.probe(this.#table.serving(module))) {
              this.#table.markLost(silent);
              tried.add(silent);
            }
          }
          break;
        case 'lost':
          tried.add(outcome.host);
          if (retriesLeft-- > 0) break;
          throw new HostLostError(
            `Host ${outcome.host} stopped answering while it ran ${module}.${wire.headers.get(H.fn)}; ` +
              'the call may or may not have run. Pass retry: 1 (for idempotent calls) to run it ' +
              'again on another host.',
            { details: { module, host: outcome.host, attempts } },
          );
      }
    }
  }

  #attempt(
    subject: string,
    wire: WireMessage,
    options: LatticeCallOptions & { ackTimeoutMs: number },
  ): Promise<Outcome> {
    const { signal, ackTimeoutMs } = options;
    return new Promise<Outcome>((resolve, reject) => {
      const id = String(this.#next++);
      const onAbort = () => {
        finish();
        reject(new AbortError('The lattice call was aborted.', { cause: signal!.reason }));
      };
      const finish = () => {
        if (this.#attempts.get(id) !== attempt) return;
        this.#attempts.delete(id);
        clearTimeout(attempt.ackTimer);
        if (attempt.host !== undefined) {
          this.#liveness.unwatch(attempt.host);
          this.#table.track(attempt.host, -1);
        }
        signal?.removeEventListener('abort', onAbort);
      };
      const attempt: Attempt = {
        host: undefined,
        resultBuffer: options.resultBuffer,
        ackTimer: setTimeout(() => {
          finish();
          resolve({ kind: 'no-ack' });
        }, ackTimeoutMs),
        detach: finish,
        settle: (outcome) => {
          finish();
          resolve(outcome);
        },
        resolve,
      };
      if (!this.connected) {
        clearTimeout(attempt.ackTimer);
        reject(unavailable());
        return;
      }
      this.#attempts.set(id, attempt);
      signal?.addEventListener('abort', onAbort, { once: true });
      wire.headers.set(H.ackBy, String(Date.now() + ackTimeoutMs));
      wire.headers.set(H.ackMs, String(ackTimeoutMs));
      this.#nc.publish(subject, wire.body, {
        reply: `${this.#inbox}.${id}`,
        headers: wire.headers,
      });
    });
  }

  /** Whether the connection is up (false while reconnecting). */
  connected = true;

  /** The connection dropped: every call waiting fails at once (its answer would be lost). */
  disconnected(): void {
    this.connected = false;
    for (const attempt of [...this.#attempts.values()]) {
      attempt.settle({ kind: 'error', error: unavailable() });
    }
  }

  /** `hostId` stopped answering: its calls are lost (or retried). */
  hostLost(hostId: string): void {
    for (const attempt of [...this.#attempts.values()]) {
      if (attempt.host === hostId) attempt.settle({ kind: 'lost', host: hostId });
    }
  }

  /** Stops listening for answers; calls still waiting fail. */
  close(): void {
    this.disconnected();
    this.#sub.unsubscribe();
  }

  #answer(msg: Msg): void {
    const id = msg.subject.slice(this.#inbox.length + 1);
    const attempt = this.#attempts.get(id);
    if (!attempt) return; // an answer for an attempt given up
    const headers = msg.headers;
    if (headers?.code === 503) {
      attempt.settle({ kind: 'no-responders' });
      return;
    }
    const kind = headers?.get(H.kind);
    const host = headers?.get(H.host) ?? '';
    if (kind === 'ack') {
      clearTimeout(attempt.ackTimer);
      attempt.ackTimer = undefined;
      attempt.host = host;
      this.#table.track(host, 1);
      this.#liveness.watch(host);
      return;
    }
    if (kind === 'error') {
      attempt.settle({ kind: 'error', error: decodeError(msg.data) });
      return;
    }
    if (kind === 'result' && headers) {
      // The answer is in: a host lost from now on does not matter. Resolved once decoded (a
      // large result is read from the store first).
      attempt.detach();
      decodeResult(headers, msg.data, this.#payloads, attempt.resultBuffer).then(
        (result) => attempt.resolve({ kind: 'result', result }),
        (error: Error) => attempt.resolve({ kind: 'error', error }),
      );
    }
  }
}

function notFound(module: string): Error {
  return new ModuleNotFoundError(
    `No host of the lattice serves a module "${module}". \`wasmtube hosts\` lists what each ` +
      'host serves; `wasmtube deploy` adds a module.',
    { details: { module } },
  );
}

function noHostLeft(module: string, tried: ReadonlySet<string>): Error {
  return new HostLostError(
    `No host serving "${module}" acknowledged the call (tried: ${
      [...tried].join(', ') || 'the ' + 'queue group'
    }); hosts may be frozen or cut off from NATS.`,
    { details: { module, tried: [...tried] } },
  );
}

function unavailable(): Error {
  return new LatticeUnavailableError(
    'The connection to NATS is down (reconnecting): lattice calls fail until it is back.',
  );
}
