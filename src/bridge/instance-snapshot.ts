/**
 * The state of an instance when it became ready, and putting it back after a call
 * (`isolation: 'call'`, docs/isolation.md).
 *
 * Speed comes from restoring only what changed. JavaScript has no dirty-page bits, so the ready
 * memory is compared with its copy one 64 KiB page at a time (`memcmp`, ~15 µs per MiB here) and
 * only pages that differ are copied back: a call that touched a stack page, a static and a heap
 * page costs the comparison plus three page copies, not a full memcpy. (Copying a differing page
 * whole measured faster than finding its 4 KiB chunks that differ.)
 * Pages grown after ready were zero in the fresh instance: the guest's are compared with zero
 * and scrubbed after every call (allocators that size their heap by `memory.size` reuse them),
 * and of the host region, the bytes the call used.
 */
import { PAGE_SIZE } from './wasm-binary.js';

const ZERO = Buffer.alloc(PAGE_SIZE);

/**
 * How far a guest's memory may be above its ready size and the host region before the instance
 * is replaced. Memory cannot shrink: after a call that needed a lot of it (or without the page
 * count rewrite, after many calls that each grew it), replacing the instance is the only way to
 * give the pages back. Below the bound, the restored guest grows into them again.
 */
export const GROWTH_LIMIT_BYTES = 64 * 1024 * 1024;

/** The host region of linear memory, and the end of the bytes the host used in it. */
export interface HostRegionUse {
  offset: number;
  capacity: number;
  /** End of the bytes written (payload) or read (result) there since the last restore. */
  touchedEnd: number;
}

/** One instance's ready state (memory pages, mutable globals, table sizes) and its restore. */
export class InstanceSnapshot {
  readonly #memory: WebAssembly.Memory;
  /**
   * Linear memory as it was when the instance became ready, page by page; `undefined` for a page
   * that was all zero (most of a Rust guest's 1 MiB stack), which is neither stored nor copied
   * but compared with one shared zero page.
   */
  readonly #image: (Buffer | undefined)[];
  /** Bytes of memory when ready. */
  readonly #readyBytes: number;
  readonly #globals: WebAssembly.Global[];
  readonly #values: unknown[];
  readonly #tables: { table: WebAssembly.Table; length: number }[];
  /** The page count behind the guest's memory.size/memory.grow, when the module was rewritten. */
  readonly #pages: WebAssembly.Global | undefined;
  /** An LLVM guest's stack: its lowest byte, and the global with the pointer's low-water mark. */
  readonly #stack: { low: number; lowWater: WebAssembly.Global } | undefined;
  /** A Buffer over the memory, renewed when a grow replaced its ArrayBuffer. */
  #view: Buffer;

  /**
   * Takes the snapshot now: call it once the instance is ready. `globalNames` are the exports of
   * its mutable globals, `pagesGlobal` that of its page count (see `virtual-memory-size.ts`).
   */
  constructor(
    instance: WebAssembly.Instance,
    memory: WebAssembly.Memory,
    globalNames: string[],
    pagesGlobal: string | undefined,
    stack: { low: number; lowWaterGlobal: string } | undefined,
  ) {
    this.#memory = memory;
    this.#stack = stack && {
      low: stack.low,
      lowWater: instance.exports[stack.lowWaterGlobal] as WebAssembly.Global,
    };
    this.#pages = pagesGlobal ? (instance.exports[pagesGlobal] as WebAssembly.Global) : undefined;
    this.#view = Buffer.from(memory.buffer);
    this.#readyBytes = this.#view.length;
    this.#image = [];
    for (let start = 0; start < this.#readyBytes; start += PAGE_SIZE) {
      const page = this.#view.subarray(start, start + PAGE_SIZE);
      this.#image.push(page.equals(ZERO) ? undefined : Buffer.from(page));
    }
    this.#globals = globalNames.map((name) => instance.exports[name] as WebAssembly.Global);
    this.#values = this.#globals.map((global) => global.value as unknown);
    this.#tables = Object.values(instance.exports)
      .filter((value): value is WebAssembly.Table => value instanceof WebAssembly.Table)
      .map((table) => ({ table, length: table.length }));
  }

  /** Bytes of linear memory the snapshot holds (the memory's size when it became ready). */
  get bytes(): number {
    return this.#readyBytes;
  }

  /**
   * Puts memory and globals back as they were when the instance became ready. Returns false
   * when the instance must be replaced instead: a table grew, or the guest grew its memory past
   * {@link GROWTH_LIMIT_BYTES}. `thorough` (after a failed call, whose result was never read)
   * also scrubs the whole host region, not only the bytes the host used.
   */
  restore(region: HostRegionUse | undefined, thorough: boolean): boolean {
    for (const { table, length } of this.#tables) if (table.length !== length) return false;
    const size = this.#memory.buffer.byteLength;
    const hostBytes = region && region.offset >= this.#readyBytes ? region.capacity : 0;
    if (size - this.#readyBytes - hostBytes > GROWTH_LIMIT_BYTES) return false;
    if (this.#view.buffer !== this.#memory.buffer) this.#view = Buffer.from(this.#memory.buffer);
    this.#restoreReadyPages();
    // The guest's pages grown after ready: with a page count, those below the count the call
    // reached; without, all (allocators that size their heap by memory.size reuse them).
    const ready = this.#readyBytes;
    const pages = this.#pages;
    const reached = thorough || !pages ? size : Math.min(size, (pages.value as number) * PAGE_SIZE);
    const hostStart = hostBytes > 0 ? region!.offset : size;
    const hostEnd = hostBytes > 0 ? region!.offset + region!.capacity : size;
    this.#zeroRange(ready, Math.min(hostStart, reached));
    if (hostEnd < reached) this.#zeroRange(hostEnd, reached);
    // The host region: the bytes the host wrote and read there (all of it after a failure).
    if (hostBytes > 0) {
      const used = thorough ? hostEnd : region!.touchedEnd;
      if (used > hostStart) this.#zeroRange(hostStart, Math.min(used, size));
    }
    const globals = this.#globals;
    for (let i = 0; i < globals.length; i++) globals[i]!.value = this.#values[i];
    // The guest must grow past the host region, as in a fresh instance that reserved it.
    if (pages && hostBytes > 0) pages.value = Math.max(pages.value as number, hostEnd / PAGE_SIZE);
    return true;
  }

  /**
   * Compares each ready page with its copy and restores those that differ — but not the stack
   * bytes below the lowest the stack pointer went in the call, which no frame wrote: pages wholly
   * below it are skipped, and of the page it falls in only the part above it is compared (for a
   * call that used 1 KiB of stack, 1 KiB instead of a 64 KiB page compared and zeroed).
   */
  #restoreReadyPages(): void {
    const image = this.#image;
    const stack = this.#stack;
    // The untouched stack bytes: [skipFrom, skipTo).
    const skipFrom = stack ? stack.low : 0;
    const skipTo = stack ? Math.max(skipFrom, stack.lowWater.value as number) : 0;
    for (let p = 0, start = 0; p < image.length; p++, start += PAGE_SIZE) {
      const end = start + PAGE_SIZE;
      if (skipTo <= start || skipFrom >= end) {
        this.#restorePart(image[p], start, start, end);
        continue;
      }
      if (start < skipFrom) this.#restorePart(image[p], start, start, skipFrom);
      if (skipTo < end) this.#restorePart(image[p], start, skipTo, end);
    }
  }

  /**
   * Restores `[from, to)` of the page at `pageStart` when it differs from the ready image (zero
   * for an all-zero page). Whole: one memcpy costs less than finding the parts that differ.
   */
  #restorePart(ready: Buffer | undefined, pageStart: number, from: number, to: number): void {
    const live = this.#view;
    const source = ready ?? ZERO;
    const offset = from - pageStart;
    if (live.compare(source, offset, offset + to - from, from, to) === 0) return;
    if (ready) live.set(ready.subarray(offset, offset + to - from), from);
    else live.fill(0, from, to);
  }

  /**
   * Zeroes the pages of `[from, to)` (page-aligned `from`) that are not zero: memory a fresh
   * instance has as zero. Pages nobody wrote are only read (and stay unbacked by RAM).
   */
  #zeroRange(from: number, to: number): void {
    const live = this.#view;
    for (let page = from; page < to; page += PAGE_SIZE) {
      const end = Math.min(page + PAGE_SIZE, to);
      if (live.compare(ZERO, 0, end - page, page, end) !== 0) live.fill(0, page, end);
    }
  }
}
