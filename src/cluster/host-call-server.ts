import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { ModuleNotFoundError } from '../server/gateway-errors.js';
import { servingWorker } from '../server/module-lookup.js';
import type { ModuleRegistry } from '../server/module-registry.js';
import type { CallInput, ResultKind } from '../types.js';
import {
  decodeCall,
  encodeAck,
  encodeError,
  encodeResult,
  H,
  type WireMessage,
} from './call-codec.js';
import type { PayloadStore } from './payload-store.js';

/**
 * Runs the lattice calls this host receives on its own workers: acknowledges each at once,
 * then answers with the result or the error. Counts the calls in flight, so a draining host
 * can wait for them before it closes its connection.
 */
export class HostCallServer {
  readonly #nc: NatsConnection;
  readonly #hostId: string;
  readonly #modules: ModuleRegistry;
  readonly #payloads: PayloadStore;
  readonly #latticeVersion: (module: string, hash: string | undefined) => number;
  #inFlight = 0;
  #served = 0;
  #idle: (() => void) | undefined;

  constructor(parts: {
    nc: NatsConnection;
    hostId: string;
    modules: ModuleRegistry;
    payloads: PayloadStore;
    latticeVersion: (module: string, hash: string | undefined) => number;
  }) {
    this.#nc = parts.nc;
    this.#hostId = parts.hostId;
    this.#modules = parts.modules;
    this.#payloads = parts.payloads;
    this.#latticeVersion = parts.latticeVersion;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get served(): number {
    return this.#served;
  }

  /** Serves one call message for `module`. Never rejects: failures are answered. */
  async serve(msg: Msg, module: string): Promise<void> {
    if (!msg.reply) return;
    const ackBy = Number(msg.headers?.get(H.ackBy) || Infinity);
    // The caller stopped waiting for an acknowledgement (this host was frozen or slow) and has
    // sent the call elsewhere: running it too would run it twice.
    if (Date.now() > ackBy) return;
    const record = this.#modules.get(module);
    if (record?.state !== 'serving') {
      this.#send(
        msg.reply,
        encodeError(
          new ModuleNotFoundError(`Host ${this.#hostId} does not serve a module "${module}".`, {
            details: { module, host: this.#hostId },
          }),
          this.#hostId,
        ),
      );
      return;
    }
    this.#inFlight++;
    // A call answered within a fifth of the caller's ack timeout (20 ms at most) needs no
    // acknowledgement: its result is one. Slower calls are acknowledged then.
    const reply = msg.reply;
    const ackMs = Number(msg.headers?.get(H.ackMs) || 250);
    const ack = setTimeout(
      () => this.#send(reply, encodeAck(this.#hostId)),
      Math.min(20, ackMs / 5),
    );
    try {
      const call = await decodeCall(msg.headers, msg.data, this.#payloads);
      const returns = call.returns ?? defaultReturns(call.input);
      const current = this.#modules.get(module);
      const worker = servingWorker(current ?? record);
      const { result, info } = await worker.callFunctionWithInfo(call.fn, call.input, {
        returns,
        ...(call.timeoutMs !== undefined ? { timeoutMs: call.timeoutMs } : {}),
        ...(call.queueTimeoutMs !== undefined ? { queueTimeoutMs: call.queueTimeoutMs } : {}),
      });
      const served = current ?? record;
      const hash = served.hashOf(served.versionOf(info.version));
      const answer = await encodeResult(
        result,
        returns,
        {
          host: this.#hostId,
          version: this.#latticeVersion(module, hash),
          hash,
        },
        this.#payloads,
      );
      clearTimeout(ack);
      this.#send(msg.reply, answer);
      this.#served++;
    } catch (error) {
      clearTimeout(ack);
      this.#send(msg.reply, encodeError(error, this.#hostId));
    } finally {
      if (--this.#inFlight === 0) this.#idle?.();
    }
  }

  /** Resolves when no call is in flight (or after `timeoutMs`). */
  async idle(timeoutMs: number): Promise<void> {
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #send(reply: string, message: WireMessage): void {
    this.#nc.publish(reply, message.body, { headers: message.headers });
  }
}

/** The result kind a call gets when it names none (as for `Worker.callFunction`). */
export function defaultReturns(input: CallInput): ResultKind {
  if ('bytes' in input) return 'bytes';
  if ('data' in input && input.codec === 'msgpack') return 'msgpack';
  return 'json';
}
