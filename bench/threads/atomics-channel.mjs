// A request/response channel over one SharedArrayBuffer, for one caller and one thread.
// Layout: Int32 [0] state (REQUEST, RESPONSE, STOP), [1] byte length; payload from byte 64.
// The thread blocks in Atomics.wait until the state becomes REQUEST (or spins); the caller waits
// for RESPONSE synchronously (Atomics.wait, blocking its thread), with Atomics.waitAsync, or by
// spinning.

const REQUEST = 1;
const RESPONSE = 2;
const STOP = 3;
const DATA = 64;

export function createChannel(capacity = 1 << 20) {
  return new SharedArrayBuffer(DATA + capacity);
}

/**
 * Thread side: answers requests with `handler(bytes) → bytes` until the caller stops it. Sleeps
 * in Atomics.wait between requests, or with `spin` polls without ever sleeping (burning a core:
 * the cost of a round trip without a thread wake-up).
 */
export function serveAtomics(sab, handler, { spin = false } = {}) {
  const ctrl = new Int32Array(sab, 0, 2);
  const data = new Uint8Array(sab, DATA);
  for (;;) {
    let state;
    while ((state = Atomics.load(ctrl, 0)) !== REQUEST) {
      if (state === STOP) return;
      if (!spin) Atomics.wait(ctrl, 0, state);
    }
    const result = handler(data.subarray(0, ctrl[1]));
    data.set(result);
    ctrl[1] = result.length;
    Atomics.store(ctrl, 0, RESPONSE);
    Atomics.notify(ctrl, 0);
  }
}

/** Caller side. `call(bytes)` returns a copy of the response bytes. */
export class AtomicsClient {
  #ctrl;
  #data;

  constructor(sab) {
    this.#ctrl = new Int32Array(sab, 0, 2);
    this.#data = new Uint8Array(sab, DATA);
  }

  #send(bytes) {
    this.#data.set(bytes);
    this.#ctrl[1] = bytes.length;
    Atomics.store(this.#ctrl, 0, REQUEST);
    Atomics.notify(this.#ctrl, 0);
  }

  #receive() {
    return this.#data.slice(0, this.#ctrl[1]);
  }

  /** Blocks the calling thread in Atomics.wait until the response is there. */
  callSync(bytes) {
    this.#send(bytes);
    while (Atomics.load(this.#ctrl, 0) === REQUEST) Atomics.wait(this.#ctrl, 0, REQUEST);
    return this.#receive();
  }

  /** Polls until the response is there, never sleeping (with a spinning thread: no wake-ups). */
  callSpin(bytes) {
    this.#send(bytes);
    while (Atomics.load(this.#ctrl, 0) === REQUEST);
    return this.#receive();
  }

  /** Waits with Atomics.waitAsync: the event loop keeps running meanwhile. */
  async call(bytes) {
    this.#send(bytes);
    while (Atomics.load(this.#ctrl, 0) === REQUEST) {
      const wait = Atomics.waitAsync(this.#ctrl, 0, REQUEST);
      if (wait.async) await wait.value;
    }
    return this.#receive();
  }

  stop() {
    Atomics.store(this.#ctrl, 0, STOP);
    Atomics.notify(this.#ctrl, 0);
  }
}
