import { copyBytes } from './buffers.js';
import { InputOutOfBoundsError, MemoryLimitError, ResultOutOfBoundsError } from '../errors.js';
import type { HostRegionUse } from './instance-snapshot.js';
import { PAGE_SIZE } from './wasm-binary.js';

/** Where a call's payload goes in linear memory. */
export type Placement =
  /** A host-owned region at the top of linear memory (the safe default). */
  | { kind: 'host-region' }
  /** A fixed byte offset, exactly as the Elixir library does (`Wasmtube.index/2`). */
  | { kind: 'offset'; offset: number };

/** A region reserved for one call: the payload is written at `offset`, the result read there. */
export interface Reservation {
  offset: number;
  /** Bytes the guest may write at `offset` without touching memory it did not get from us. */
  capacity: number;
}

/**
 * Linear memory access with bounds checks, and the host-owned region.
 *
 * The Elixir library writes payloads at offset 42, which in a Rust guest is inside the stack, so a
 * large payload overwrites the stack and static data. Instead, by default we grow memory and use
 * the new pages at the top: guest allocators (dlmalloc, AssemblyScript's TLSF, wee_alloc) only
 * hand out pages they grew themselves, so these pages are never theirs. The region is kept and
 * reused across calls, and grown in place while it is still the top of memory.
 */
export class GuestMemory {
  readonly #memory: WebAssembly.Memory;
  #region: Reservation | undefined;
  /** Fewer pages than the memory could not grow to: its maximum, once a grow failed. */
  #maxPages = Infinity;
  /** End of the host region bytes written or read since {@link takeHostRegionUse} (isolation). */
  #touchedEnd = 0;

  /** Tells a rewritten guest's page count that the host grew memory (`'call'` isolation). */
  readonly #onGrow: ((pages: number) => void) | undefined;

  constructor(memory: WebAssembly.Memory, onGrow?: (pages: number) => void) {
    this.#memory = memory;
    this.#onGrow = onGrow;
  }

  /** Current size in bytes (a view taken before a call is stale once the guest grows memory). */
  get byteLength(): number {
    return this.#memory.buffer.byteLength;
  }

  /** Current size in 64 KiB pages. */
  get pages(): number {
    return this.#memory.buffer.byteLength / PAGE_SIZE;
  }

  /**
   * Returns where a `bytes`-byte payload goes. A host region also keeps `headroom` bytes past the
   * payload, for results longer than their input.
   */
  reserve(placement: Placement, bytes: number, headroom: number): Reservation {
    if (placement.kind === 'offset') {
      const end = placement.offset + bytes;
      if (end > this.byteLength) {
        throw new InputOutOfBoundsError(
          `A ${bytes}-byte payload at index ${placement.offset} ends at ${end}, past the end of the ` +
            `guest's ${this.byteLength}-byte memory. Use a smaller index, or drop .index() so the ` +
            `payload goes to a host-owned region.`,
          { details: { offset: placement.offset, bytes, memoryBytes: this.byteLength } },
        );
      }
      return { offset: placement.offset, capacity: this.byteLength - placement.offset };
    }
    return this.#reserveHostRegion(bytes, headroom);
  }

  /**
   * A region of at least `bytes`, with up to `headroom` more when the memory's maximum allows:
   * under a small `maxMemoryMb`, the default headroom must not make every call fail.
   */
  #reserveHostRegion(bytes: number, headroom: number): Reservation {
    const region = this.#region;
    if (region && region.capacity >= bytes + headroom) return region;
    const top = this.byteLength;
    const atTop = region !== undefined && region.offset + region.capacity === top;
    const offset = atTop ? region.offset : top;
    const ownedPages = atTop ? region.capacity / PAGE_SIZE : 0;
    const neededPages = Math.ceil(bytes / PAGE_SIZE);
    // Once the maximum is known to be reached, a region big enough for the payload will do.
    if (region && region.capacity >= bytes && this.pages >= this.#maxPages) return region;
    let wantedPages = Math.max(neededPages, Math.ceil((bytes + headroom) / PAGE_SIZE));
    for (;;) {
      try {
        this.#memory.grow(Math.max(0, wantedPages - ownedPages));
        this.#onGrow?.(this.pages);
        break;
      } catch (error) {
        this.#maxPages = Math.min(this.#maxPages, this.pages + wantedPages - ownedPages - 1);
        if (wantedPages > neededPages) {
          wantedPages = neededPages + Math.floor((wantedPages - neededPages) / 2);
          continue;
        }
        throw new MemoryLimitError(
          `Growing the guest's memory by ${wantedPages - ownedPages} pages for a ${bytes}-byte ` +
            `payload failed: the module's memory maximum (or maxMemoryMb) is reached. ` +
            `Raise maxMemoryMb, send a smaller payload, or pass it at an explicit .index().`,
          { cause: error, details: { bytes, pages: this.pages } },
        );
      }
    }
    this.#region = { offset, capacity: Math.max(wantedPages, ownedPages) * PAGE_SIZE };
    return this.#region;
  }

  /** Copies `bytes` into memory at `offset` (bounds were checked by {@link reserve}). */
  write(offset: number, bytes: Uint8Array): void {
    new Uint8Array(this.#memory.buffer, offset, bytes.length).set(bytes);
    this.#touch(offset, bytes.length);
  }

  /**
   * The host region and the end of the bytes the host wrote or read there since the last time
   * this was taken: what `'call'` isolation must scrub after a call.
   */
  takeHostRegionUse(): HostRegionUse | undefined {
    const region = this.#region;
    const touchedEnd = this.#touchedEnd;
    this.#touchedEnd = 0;
    return region && { offset: region.offset, capacity: region.capacity, touchedEnd };
  }

  #touch(offset: number, length: number): void {
    const region = this.#region;
    if (region && offset >= region.offset && offset < region.offset + region.capacity) {
      this.#touchedEnd = Math.max(this.#touchedEnd, offset + length);
    }
  }

  /**
   * Checks that a result length the guest returned is inside memory and copies the result out.
   * The copy matters: the next call may grow memory and detach any view into it.
   */
  readResult(reservation: Reservation, length: number, fn: string, into?: Uint8Array): Uint8Array {
    if (!Number.isInteger(length) || length < 0) {
      throw new ResultOutOfBoundsError(
        `${fn} returned the result length ${length}; a length must be a non-negative integer. ` +
          `The guest is broken: check the value its function returns.`,
        { details: { length } },
      );
    }
    const end = reservation.offset + length;
    if (end > this.byteLength) {
      throw new ResultOutOfBoundsError(
        `${fn} returned the result length ${length}, which would read up to byte ${end} of a ` +
          `${this.byteLength}-byte memory. The guest is broken: check the value its function returns.`,
        { details: { length, offset: reservation.offset, memoryBytes: this.byteLength } },
      );
    }
    return this.#copyOut(reservation.offset, length, into);
  }

  /** Throws `ERR_RESULT_OUT_OF_BOUNDS` unless `[offset, offset + length)` is inside memory. */
  checkRange(offset: number, length: number, what: string): void {
    if (offset < 0 || length < 0 || offset + length > this.byteLength) {
      throw new ResultOutOfBoundsError(
        `${what} gave ${length} bytes at ${offset}, outside the guest's ${this.byteLength}-byte ` +
          `memory. The guest is broken.`,
        { details: { offset, length, memoryBytes: this.byteLength } },
      );
    }
  }

  /** Copies `length` bytes at `offset` (into `into` when they fit there). */
  read(offset: number, length: number, into?: Uint8Array): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.byteLength) {
      throw new ResultOutOfBoundsError(
        `Reading ${length} bytes at ${offset} is outside the guest's ${this.byteLength}-byte memory.`,
        { details: { offset, length, memoryBytes: this.byteLength } },
      );
    }
    return this.#copyOut(offset, length, into);
  }

  /** A warm buffer the caller owns beats a fresh one: fresh pages fault in on first write. */
  #copyOut(offset: number, length: number, into: Uint8Array | undefined): Uint8Array {
    const source = new Uint8Array(this.#memory.buffer, offset, length);
    this.#touch(offset, length);
    if (!into || into.length < length) return copyBytes(source);
    const target = into.subarray(0, length);
    target.set(source);
    return target;
  }
}
