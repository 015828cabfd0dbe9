import { NoRespondersError, RequestError, type NatsConnection } from '@nats-io/nats-core';
import type { LatticeNames } from './subjects.js';

interface Watched {
  calls: number;
  timer: NodeJS.Timeout;
  pinging: boolean;
  /** Pings in a row that went unanswered. */
  misses: number;
}

/** Whether a request failed because nothing subscribes to its subject. */
export function isNoResponders(error: unknown): boolean {
  if (error instanceof NoRespondersError) return true;
  return error instanceof RequestError && error.isNoResponders();
}

/**
 * Watches the hosts that run this caller's calls: while a host has a call of ours, it is pinged
 * every `intervalMs`; two pings in a row unanswered within `intervalMs` (a frozen or cut-off
 * host) or one with no responders (a killed one, whose subscriptions the server dropped)
 * report it lost. NATS
 * alone would leave the caller waiting for its full timeout.
 */
export class HostLiveness {
  readonly #nc: NatsConnection;
  readonly #names: LatticeNames;
  readonly #intervalMs: number;
  readonly #onLost: (hostId: string) => void;
  /** Hosts watched, and how many calls each has. */
  readonly #watched = new Map<string, Watched>();

  constructor(
    nc: NatsConnection,
    names: LatticeNames,
    intervalMs: number,
    onLost: (hostId: string) => void,
  ) {
    this.#nc = nc;
    this.#names = names;
    this.#intervalMs = intervalMs;
    this.#onLost = onLost;
  }

  /** A call of ours is now on `hostId`. */
  watch(hostId: string): void {
    const watched = this.#watched.get(hostId);
    if (watched) {
      watched.calls++;
      return;
    }
    const timer = setInterval(() => void this.#ping(hostId), this.#intervalMs).unref();
    const entry: Watched = { calls: 1, pinging: false, misses: 0, timer };
    this.#watched.set(hostId, entry);
  }

  /** A call of ours on `hostId` settled. */
  unwatch(hostId: string): void {
    const watched = this.#watched.get(hostId);
    if (!watched || --watched.calls > 0) return;
    clearInterval(watched.timer);
    this.#watched.delete(hostId);
  }

  /** Pings `hostIds` once; resolves with those that did not answer. */
  async probe(hostIds: string[]): Promise<string[]> {
    const answers = await Promise.all(hostIds.map((id) => this.#answers(id)));
    return hostIds.filter((_, i) => answers[i] !== 'alive');
  }

  /** Stops every ping. */
  close(): void {
    for (const watched of this.#watched.values()) clearInterval(watched.timer);
    this.#watched.clear();
  }

  async #ping(hostId: string): Promise<void> {
    const watched = this.#watched.get(hostId);
    if (!watched || watched.pinging) return;
    watched.pinging = true;
    const answer = await this.#answers(hostId);
    watched.pinging = false;
    // A killed host has no subscription left: lost at once. A slow answer may be a busy event
    // loop on a loaded machine: lost at the second one in a row.
    watched.misses = answer === 'alive' ? 0 : watched.misses + 1;
    if ((answer === 'gone' || watched.misses >= 2) && this.#watched.get(hostId) === watched) {
      clearInterval(watched.timer);
      this.#watched.delete(hostId);
      this.#onLost(hostId);
    }
  }

  async #answers(hostId: string): Promise<'alive' | 'silent' | 'gone'> {
    if (this.#nc.isClosed()) return 'gone';
    try {
      await this.#nc.request(this.#names.hostPing(hostId), undefined, {
        timeout: this.#intervalMs,
      });
      return 'alive';
    } catch (error) {
      return isNoResponders(error) ? 'gone' : 'silent';
    }
  }
}
