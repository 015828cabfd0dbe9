/**
 * Main-thread host functions for guests in worker threads. A guest calls its imports
 * synchronously, so the thread posts the request on a MessagePort and blocks in Atomics.wait
 * until the main thread — which may await an async function — posts the answer and notifies.
 */
import { asBuffer } from '../bridge/buffers.js';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { serializeError, type SerializedError } from '../errors.js';
import type { HostFunctions } from '../bridge/host-functions.js';

/** The pseudo import module under which waPC callbacks travel on a host channel. */
export const WAPC_CHANNEL = '$wapc';

interface HostRequest {
  id: number;
  module: string;
  name: string;
  args: unknown[];
}

type HostAnswer =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** The thread's end: created in the thread, its port and flag handed to the main thread. */
export class HostChannelClient {
  readonly port: MessagePort;
  readonly remotePort: MessagePort;
  readonly buffer = new SharedArrayBuffer(4);
  readonly #flag = new Int32Array(this.buffer);
  #seq = 0;
  /**
   * How long a host call may take. Set per guest call, a little longer than its timeoutMs, so
   * that the supervisor's timeout (which replaces the thread) is what the caller sees.
   */
  timeoutMs = Infinity;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.remotePort = port2;
  }

  /** Calls a main-thread host function and waits for its answer, synchronously. */
  call(module: string, name: string, args: unknown[]): unknown {
    const id = ++this.#seq;
    this.port.postMessage({ id, module, name, args } satisfies HostRequest);
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const received = receiveMessageOnPort(this.port);
      if (received) {
        const answer = received.message as HostAnswer;
        if (answer.id !== id) continue; // a late answer to a call that already gave up
        if (answer.ok) return answer.value;
        throw Object.assign(new Error(answer.error.message), { name: answer.error.name });
      }
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(this.#flag, 0, 0, left) === 'timed-out') {
        throw new Error(`no answer within ${this.timeoutMs} ms`);
      }
      Atomics.store(this.#flag, 0, 0);
    }
  }
}

/** The main thread's end: runs the requested function and answers. */
export function serveHostChannel(
  port: MessagePort,
  buffer: SharedArrayBuffer,
  functions: HostFunctions,
): void {
  const flag = new Int32Array(buffer);
  port.on('message', async ({ id, module, name, args }: HostRequest) => {
    let answer: HostAnswer;
    try {
      const fn = functions[module]?.[name]?.fn as ((...a: unknown[]) => unknown) | undefined;
      if (!fn) throw new Error(`${module}.${name} is not a main-thread host function`);
      // Buffers arrive as Uint8Arrays after crossing threads; host code gets Buffers, as in-process.
      const revived = args.map((a) => (a instanceof Uint8Array ? asBuffer(a) : a));
      answer = { id, ok: true, value: await fn(...revived) };
    } catch (error) {
      answer = { id, ok: false, error: serializeError(error) };
    }
    try {
      port.postMessage(answer);
    } catch (error) {
      port.postMessage({ id, ok: false, error: serializeError(error) } satisfies HostAnswer);
    }
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
  // Serving host calls must not keep the process alive on its own.
  port.unref();
}
