/**
 * Runs tasks one at a time per key, and coalesces: while a task for a key runs, any number of
 * further requests for it become one more run after it. Suits reconciling ("make the module match
 * its files"), where only the latest state matters.
 */
export class CoalescingQueue {
  readonly #slots = new Map<string, { tail: Promise<void>; next: Promise<void> | undefined }>();

  /** Runs `task` for `key` after the one running, unless one is already waiting (then joins it). */
  run(key: string, task: () => Promise<void>): Promise<void> {
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = { tail: Promise.resolve(), next: undefined };
      this.#slots.set(key, slot);
    }
    if (slot.next) return slot.next;
    const own = slot;
    const next = own.tail.then(() => {
      own.next = undefined;
      return task();
    });
    own.next = next;
    const release = () => {
      // Only the last run queued for the key frees its slot.
      if (own.tail === tail && own.next === undefined) this.#slots.delete(key);
    };
    const tail: Promise<void> = next.then(release, release);
    own.tail = tail;
    return next;
  }

  /** Resolves once nothing runs or waits, for any key. */
  async idle(): Promise<void> {
    while (this.#slots.size > 0) {
      await Promise.all([...this.#slots.values()].map((slot) => slot.tail));
    }
  }
}
