/** A call held back until the end of the event-loop turn, with the promise waiting for it. */
interface Held<T> {
  start: () => Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Starts the calls that HTTP requests read in one event-loop turn together, once the turn's I/O
 * is done (`setImmediate`), instead of each as its request is parsed. Calls started in the same
 * tick leave for their thread in one message (ThreadLink), so under load one `postMessage` — and
 * one wake-up of the thread — serves many requests; an idle gateway waits only for the end of the
 * turn. Only the gateway's route holds calls back: the library's own calls leave as they come.
 */
export class TurnBatch {
  #held: Held<unknown>[] = [];
  readonly #startAll = () => {
    const held = this.#held;
    this.#held = [];
    for (const call of held) {
      try {
        call.start().then(call.resolve, call.reject);
      } catch (error) {
        call.reject(error);
      }
    }
  };

  /** Runs `start` at the end of this turn, with the other calls held in it; settles as it does. */
  run<T>(start: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#held.length === 0) setImmediate(this.#startAll);
      this.#held.push({ start, resolve: resolve as (value: unknown) => void, reject });
    });
  }
}
