import { EventEmitter } from 'node:events';
import type { HostStatus } from './host-status.js';

/** A host as the caller knows it, from its heartbeats. */
interface KnownHost {
  status: HostStatus;
  lastSeen: number;
  /** Stopped answering (a ping failed, a call went unacknowledged): no calls go there. */
  lost: boolean;
  /** Calls this caller has sent it and not seen settle. */
  inFlight: number;
}

/** Events of a {@link HostTable}. */
export interface HostTableEvents {
  up: [status: HostStatus];
  down: [event: { id: string; reason: 'left' | 'silent' | 'lost' }];
}

/**
 * The hosts of the lattice as one caller sees them: added by heartbeats, removed when they say
 * goodbye or stay silent for three heartbeat periods, marked lost when they stop answering.
 * Picks a host for a call: one serving the module, not lost or leaving, least loaded by this
 * caller's own calls.
 */
export class HostTable extends EventEmitter<HostTableEvents> {
  readonly #hosts = new Map<string, KnownHost>();
  readonly #silentAfterMs: number;

  constructor(heartbeatMs: number) {
    super();
    this.#silentAfterMs = heartbeatMs * 3;
  }

  /** A heartbeat or discovery answer arrived. */
  heard(status: HostStatus): void {
    const known = this.#hosts.get(status.id);
    if (known) {
      known.status = status;
      known.lastSeen = Date.now();
      // It answers again (a frozen process resumed, a partition healed).
      known.lost = false;
      return;
    }
    this.#hosts.set(status.id, { status, lastSeen: Date.now(), lost: false, inFlight: 0 });
    this.emit('up', status);
  }

  /** The host announced it is leaving: no new calls; its calls in flight still finish. */
  leaving(id: string): void {
    const known = this.#hosts.get(id);
    if (known) known.status = { ...known.status, state: 'draining' };
  }

  /** The host left the lattice (it said goodbye and drained, or went silent). */
  gone(id: string, reason: 'left' | 'silent' | 'lost'): void {
    if (this.#hosts.delete(id)) this.emit('down', { id, reason });
  }

  /** The host stopped answering; it is forgotten if it stays silent. */
  markLost(id: string): void {
    const known = this.#hosts.get(id);
    if (known && !known.lost) {
      known.lost = true;
      this.emit('down', { id, reason: 'lost' });
    }
  }

  isLost(id: string): boolean {
    return this.#hosts.get(id)?.lost ?? false;
  }

  /** Forgets hosts silent for three heartbeat periods. */
  sweep(now = Date.now()): void {
    for (const [id, known] of this.#hosts) {
      if (now - known.lastSeen > this.#silentAfterMs) {
        this.#hosts.delete(id);
        if (!known.lost) this.emit('down', { id, reason: 'silent' });
      }
    }
  }

  /** Whether some host serving `module` is known to be lost or leaving (then calls avoid the queue group). */
  troubled(module: string): boolean {
    for (const known of this.#hosts.values()) {
      if ((known.lost || known.status.state !== 'serving') && serves(known.status, module)) {
        return true;
      }
    }
    return false;
  }

  /** The host to send a call for `module` to, avoiding `exclude`; undefined if none. */
  pick(module: string, exclude: ReadonlySet<string>): string | undefined {
    let best: KnownHost | undefined;
    let ties = 0;
    for (const known of this.#hosts.values()) {
      const { status } = known;
      if (known.lost || status.state !== 'serving' || exclude.has(status.id)) continue;
      if (!serves(status, module)) continue;
      if (!best || known.inFlight < best.inFlight) {
        best = known;
        ties = 1;
      } else if (known.inFlight === best.inFlight && Math.random() < 1 / ++ties) {
        best = known; // uniform among the least loaded
      }
    }
    return best?.status.id;
  }

  /** Hosts that serve `module`, not lost. */
  serving(module: string): string[] {
    return [...this.#hosts.values()]
      .filter((k) => !k.lost && serves(k.status, module))
      .map((k) => k.status.id);
  }

  /** Counts a call sent to `id` (+1) or settled (-1). */
  track(id: string, delta: 1 | -1): void {
    const known = this.#hosts.get(id);
    if (known) known.inFlight = Math.max(0, known.inFlight + delta);
  }

  /** Every known host's last status. */
  list(): HostStatus[] {
    return [...this.#hosts.values()].map((k) => k.status);
  }
}

function serves(status: HostStatus, module: string): boolean {
  return status.modules.some((m) => m.name === module && m.state === 'serving');
}
