import { nuid } from '@nats-io/nats-core';
import type { ObjectStore } from '@nats-io/obj';

/**
 * Moves payloads larger than the server's `max_payload` (1 MiB by default; a 1080p RGB image is
 * 6 MB) through a JetStream object store: the sender puts the bytes under a fresh name and sends
 * only the name. A call's input is read by the host and discarded by the caller once the call
 * settled (a retry on another host reads it again); a result is taken (read and deleted) by the
 * caller. The bucket's TTL removes what a sender or
 * receiver that died in between left behind.
 */
export class PayloadStore {
  readonly #store: ObjectStore;
  /** Bytes that still go inline (the rest of max_payload is left for headers). */
  readonly inlineLimit: number;

  constructor(store: ObjectStore, maxPayload: number) {
    this.#store = store;
    this.inlineLimit = Math.max(0, maxPayload - 16 * 1024);
  }

  /** Whether `bytes` must go through the store. */
  tooLarge(bytes: Uint8Array): boolean {
    return bytes.byteLength > this.inlineLimit;
  }

  /** Stores `bytes`; resolves with the name to send instead. */
  async put(bytes: Uint8Array): Promise<string> {
    const name = nuid.next();
    await this.#store.putBlob({ name }, bytes);
    return name;
  }

  /** Reads what {@link put} stored; undefined if it is gone (expired). */
  async get(name: string): Promise<Uint8Array | undefined> {
    return (await this.#store.getBlob(name)) ?? undefined;
  }

  /** Deletes what {@link put} stored. */
  discard(name: string): void {
    // Housekeeping: the bucket's TTL removes it anyway if this fails.
    void this.#store.delete(name).catch(() => undefined);
  }
}
