import { AbortError } from '../errors.js';

/**
 * Runs tasks one at a time in submission order. A task still waiting can be cancelled with its
 * AbortSignal; the tasks behind it still wait for everything submitted before them.
 */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();

  run<T>(task: () => T | Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.#tail;
    let finished!: () => void;
    const mine = new Promise<void>((resolve) => (finished = resolve));
    // The next task waits for both: an aborted task must not let it overtake a running one.
    this.#tail = previous.then(() => mine);
    return (async () => {
      try {
        await untilOrAbort(previous, signal);
        return await task();
      } finally {
        finished();
      }
    })();
  }
}

/** Rejects with {@link AbortError} if `signal` is (or becomes) aborted before `promise` settles. */
export function untilOrAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The error a call rejects with when its signal aborts; `cause` is `signal.reason`. */
export function abortError(signal: AbortSignal): InstanceType<typeof AbortError> {
  return new AbortError('The call was aborted before it ran.', { cause: signal.reason });
}
