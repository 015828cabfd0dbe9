import type { CallInput } from '../types.js';
import type { ResponseFormat } from './http-call.js';

/** A call served elsewhere in the lattice: its result and who served it. */
export interface LatticeServed {
  result: unknown;
  host: string;
  version: number;
  hash: string | undefined;
}

/** What `/healthz` says: `degraded` when the lattice is cut off but local calls still work. */
export interface LatticeHealth {
  status: 'ok' | 'degraded';
  host: string;
  lattice: string;
  nats: 'connected' | 'reconnecting';
}

/**
 * What the gateway needs from the lattice it belongs to (`wasmtube serve --nats`), implemented
 * by `wasmtube/cluster`. The gateway only knows this interface, so the server layer does not
 * depend on NATS.
 */
export interface GatewayLattice {
  /** This host's id, sent as `x-wasmtube-host` with local answers. */
  readonly hostId: string;
  /** The lattice version of a module this host serves (from its hash), 0 if unknown. */
  versionOf(module: string, hash: string | undefined): number;
  /** Calls a module this host does not serve on a host that does. */
  callFunction(
    module: string,
    fn: string,
    input: CallInput,
    options: { returns: ResponseFormat; signal: AbortSignal },
  ): Promise<LatticeServed>;
  health(): LatticeHealth;
  /** Queues a durable job; resolves with its id. */
  enqueue(
    module: string,
    fn: string,
    input: CallInput,
    options: { returns: ResponseFormat },
  ): Promise<string>;
  /** A job's state (its result as JSON, or base64 for bytes). */
  job(id: string): Promise<unknown>;
}
