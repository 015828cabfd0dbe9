import type { NatsConnection } from '@nats-io/nats-core';
import type { Gateway } from '../server/gateway.js';
import type { GatewayLattice, LatticeHealth, LatticeServed } from '../server/gateway-lattice.js';
import type { CallInput } from '../types.js';
import type { Lattice } from './lattice.js';
import type { LatticeHost } from './lattice-host.js';

/**
 * A gateway's view of its lattice: calls and jobs through the {@link Lattice} client, this
 * host's id and versions from its {@link LatticeHost}, health from the connection.
 */
export class GatewayMember implements GatewayLattice {
  readonly #lattice: Lattice;
  readonly #host: LatticeHost;

  constructor(lattice: Lattice, host: LatticeHost) {
    this.#lattice = lattice;
    this.#host = host;
  }

  get hostId(): string {
    return this.#host.id;
  }

  versionOf(module: string, hash: string | undefined): number {
    return this.#host.versionOf(module, hash);
  }

  async callFunction(
    module: string,
    fn: string,
    input: CallInput,
    options: { returns: 'json' | 'bytes' | 'png' | 'jpeg' | 'webp'; signal: AbortSignal },
  ): Promise<LatticeServed> {
    const { result, info } = await this.#lattice.callFunctionWithInfo(module, fn, input, options);
    return { result, host: info.host, version: info.version, hash: info.hash };
  }

  health(): LatticeHealth {
    const connected = this.#lattice.connected;
    return {
      status: connected ? 'ok' : 'degraded',
      host: this.#host.id,
      lattice: this.#lattice.name,
      nats: connected ? 'connected' : 'reconnecting',
    };
  }

  enqueue(
    module: string,
    fn: string,
    input: CallInput,
    options: { returns: string },
  ): Promise<string> {
    return this.#lattice.enqueue(module, fn, input, { returns: options.returns as 'json' });
  }

  async job(id: string): Promise<unknown> {
    const state = await this.#lattice.job(id);
    // Over HTTP, a bytes or image result travels as base64.
    return Buffer.isBuffer(state.result)
      ? { ...state, result: state.result.toString('base64'), resultEncoding: 'base64' }
      : state;
  }
}

/**
 * Leaves the lattice without failing a call, in the order that loses no reply: the host stops
 * taking lattice calls and finishes those it accepted, the gateway drains its HTTP calls and
 * stops its workers, then the connection is drained.
 */
export async function leaveLattice(parts: {
  host: LatticeHost;
  gateway: Gateway;
  lattice: Lattice;
  nc: NatsConnection;
  timeoutMs: number;
}): Promise<void> {
  await parts.host.drain(parts.timeoutMs);
  await parts.gateway.close({ timeoutMs: parts.timeoutMs });
  await parts.lattice.close();
  if (!parts.nc.isClosed()) await parts.nc.drain().catch(() => parts.nc.close());
}
