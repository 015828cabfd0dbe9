import { copyBytes } from '../bridge/buffers.js';
import { STAGING_MIN_BYTES } from '../protocol/transfer.js';

/**
 * Buffers that carry large call inputs to threads, kept for reuse when a thread hands them back.
 * A fresh 6 MB buffer costs about 0.5 ms of page faults on its first write; a buffer that has
 * been written before costs only the copy (about 0.15 ms). Threads give back the input buffer of
 * a call whose result did not need it (a result copied into it travels on to the caller instead).
 * When calls of one size keep taking their buffers away (an image filter's results), a
 * replacement is allocated and written once right after the call is posted, while its thread
 * works: the next call of that size finds it ready instead of paying the page faults itself.
 */
export class StagingBuffers {
  /** Buffers kept per size: as many as calls of one size are usually in flight at once. */
  static readonly PER_SIZE = 8;
  /** A size not used for this long has its buffers dropped: idle memory goes back. */
  static readonly IDLE_MS = 5000;

  readonly #maxBytes: number;
  /** Idle buffers by size, the size used longest ago first (evicted first when full). */
  readonly #bySize = new Map<number, ArrayBuffer[]>();
  #bytes = 0;
  /** The size of the last copy: a size seen twice in a row is worth preparing buffers for. */
  #lastSize = 0;
  #preparing = false;
  readonly #usedAt = new Map<number, number>();
  #sweeper: NodeJS.Timeout | undefined;

  /** @param maxBytes how many bytes of idle buffers to keep at most */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held by idle buffers. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A buffer holding a copy of `source`: a kept one of the same size when there is one. */
  copyOf(source: Uint8Array): Uint8Array {
    const size = source.byteLength;
    const list = this.#touch(size);
    const kept = list?.pop();
    if (size >= STAGING_MIN_BYTES && size === this.#lastSize && !list?.length) this.#prepare(size);
    this.#lastSize = size;
    if (!kept) return copyBytes(source);
    this.#bytes -= size;
    const copy = new Uint8Array(kept);
    copy.set(source);
    return copy;
  }

  /** Allocates and writes a buffer of `size` after the current task: off the call's path. */
  #prepare(size: number): void {
    if (this.#preparing) return;
    this.#preparing = true;
    setImmediate(() => {
      this.#preparing = false;
      if (this.#bySize.get(size)?.length) return;
      const buffer = Buffer.allocUnsafeSlow(size);
      buffer.fill(0); // faults its pages in now
      this.give(buffer.buffer);
    }).unref();
  }

  /**
   * Keeps a buffer a thread gave back, unless it is small, its size has PER_SIZE kept already, or
   * it is larger than the whole pool; room is made by dropping the sizes used longest ago.
   */
  give(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (size < STAGING_MIN_BYTES || size > this.#maxBytes) return;
    let list = this.#touch(size);
    if (list && list.length >= StagingBuffers.PER_SIZE) return;
    for (const [other, kept] of this.#bySize) {
      if (this.#bytes + size <= this.#maxBytes) break;
      if (other === size) continue;
      this.#bytes -= other * kept.length;
      this.#bySize.delete(other);
      this.#usedAt.delete(other);
    }
    if (this.#bytes + size > this.#maxBytes) return;
    if (!list) {
      this.#bySize.set(size, (list = []));
      this.#usedAt.set(size, performance.now());
    }
    list.push(buffer);
    this.#bytes += size;
    this.#sweepLater();
  }

  /** The kept buffers of `size`, marked as used most recently. */
  #touch(size: number): ArrayBuffer[] | undefined {
    const list = this.#bySize.get(size);
    if (list) {
      this.#bySize.delete(size);
      this.#bySize.set(size, list);
      this.#usedAt.set(size, performance.now());
    }
    return list;
  }

  /** Drops the sizes not used for IDLE_MS, checking while any buffer is kept. */
  #sweepLater(): void {
    if (this.#sweeper) return;
    this.#sweeper = setInterval(() => {
      const cutoff = performance.now() - StagingBuffers.IDLE_MS;
      for (const [size, list] of this.#bySize) {
        if ((this.#usedAt.get(size) ?? 0) > cutoff) break; // the rest were used later
        this.#bytes -= size * list.length;
        this.#bySize.delete(size);
        this.#usedAt.delete(size);
      }
      if (this.#bySize.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, StagingBuffers.IDLE_MS).unref();
  }
}

/** The main thread's staging buffers, shared by every Worker in the process. */
export const stagingBuffers = new StagingBuffers(64 * 1024 * 1024);
