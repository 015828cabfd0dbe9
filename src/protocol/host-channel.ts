/**
 * Host channels: main-thread host functions for guests in worker threads. A guest calls its
 * imports synchronously, so the thread posts a {@link HostRequest} on a MessagePort and blocks on
 * a flag in shared memory until the main thread — which may await an async function — posts the
 * {@link HostAnswer} and raises the flag. Both ends import this layout; the thread's end is
 * `src/thread/host-channel-client.ts`, the main thread's `src/supervisor/host-channel-server.ts`.
 */
import type { SerializedError } from '../errors.js';

/** The pseudo import module under which waPC callbacks travel on a host channel. */
export const WAPC_CHANNEL = '$wapc';

/** A thread's call of a main-thread host function. */
export interface HostRequest {
  id: number;
  module: string;
  name: string;
  args: unknown[];
}

/** The main thread's answer to the {@link HostRequest} of the same id. */
export type HostAnswer =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/**
 * The flag of a host channel: one Int32 of shared memory, raised by the main thread after it
 * posted an answer, lowered by the thread once it woke up.
 */
export class HostChannelFlag {
  readonly buffer: SharedArrayBuffer;
  readonly #flag: Int32Array;

  constructor(buffer = new SharedArrayBuffer(4)) {
    this.buffer = buffer;
    this.#flag = new Int32Array(buffer);
  }

  /** Main side: an answer was posted; wakes the waiting thread. */
  raise(): void {
    Atomics.store(this.#flag, 0, 1);
    Atomics.notify(this.#flag, 0);
  }

  /** Thread side: waits up to `ms` for the flag to be raised; false if it timed out. */
  wait(ms: number): boolean {
    return Atomics.wait(this.#flag, 0, 0, ms) !== 'timed-out';
  }

  /** Thread side: after waking, before reading the port again. */
  lower(): void {
    Atomics.store(this.#flag, 0, 0);
  }
}
