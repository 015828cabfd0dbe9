/**
 * The thread's end of a host channel (see `src/protocol/host-channel.ts`): a guest's synchronous
 * call of a main-thread host function.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { HostChannelFlag, type HostAnswer, type HostRequest } from '../protocol/host-channel.js';

/** The thread's end: created in the thread, its port and flag handed to the main thread. */
export class HostChannelClient {
  readonly port: MessagePort;
  readonly remotePort: MessagePort;
  readonly #flag = new HostChannelFlag();
  readonly buffer = this.#flag.buffer;
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
      if (left <= 0 || !this.#flag.wait(left)) {
        throw new Error(`no answer within ${this.timeoutMs} ms`);
      }
      this.#flag.lower();
    }
  }
}
