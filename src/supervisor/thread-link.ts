import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CallSlots } from '../worker/call-slots.js';
import type { CallMessage, CallReply, ThreadResponse, ThreadTask } from '../worker/messages.js';
import { stagingBuffers } from './staging-buffers.js';
import type { ThreadPool } from './thread-pool.js';

/** What a link needs to know of a call. */
export interface LinkedCall {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  link: ThreadLink<any> | undefined;
  slot: number;
}

/**
 * The main thread's end of one thread's call channel: calls are posted straight to the thread
 * (several at a time, so a busy thread never waits for the next one), and each occupies a slot
 * of shared memory the thread marks when it starts the call.
 */
export class ThreadLink<C extends LinkedCall = LinkedCall> {
  readonly threadId: number;
  readonly pool: ThreadPool;
  readonly slots: CallSlots;
  readonly #port: MessagePort;
  readonly #free: number[];
  readonly #calls = new Map<number, C>();
  readonly #onResponse: (call: C, response: ThreadResponse) => void;
  #closed = false;
  #outbox: CallMessage[] = [];
  #outboxTransfer: ArrayBuffer[] = [];

  constructor(
    pool: ThreadPool,
    threadId: number,
    port: MessagePort,
    slots: SharedArrayBuffer,
    onResponse: (call: C, response: ThreadResponse) => void,
  ) {
    this.pool = pool;
    this.threadId = threadId;
    this.#port = port;
    this.slots = new CallSlots(slots);
    this.#free = Array.from({ length: this.slots.count }, (_, i) => this.slots.count - 1 - i);
    this.#onResponse = onResponse;
    port.on('message', (replies: CallReply[]) => {
      for (const reply of replies) this.#onReply(reply);
    });
    // An idle channel must not keep the process alive; one with calls in flight must.
    port.unref();
  }

  /** Calls this thread has been given and not answered. */
  get load(): number {
    return this.#calls.size;
  }

  /** The calls this thread has been given and not answered. */
  calls(): IterableIterator<C> {
    return this.#calls.values();
  }

  /** Slots free for more calls. */
  get capacity(): number {
    return this.#closed ? 0 : this.#free.length;
  }

  /**
   * Gives the thread a call. Calls given in the same tick leave together in one message (at the
   * next microtask): one message costs about as much to post as several.
   */
  post(call: C, task: ThreadTask, transfer: ArrayBuffer[]): void {
    const slot = this.#free.pop()!;
    this.slots.queue(slot);
    call.link = this;
    call.slot = slot;
    if (this.#calls.size === 0) this.#port.ref();
    this.#calls.set(slot, call);
    if (this.#outbox.length === 0) queueMicrotask(() => this.#flush());
    this.#outbox.push({ slot, task });
    this.#outboxTransfer.push(...transfer);
  }

  #flush(): void {
    if (this.#closed || this.#outbox.length === 0) return;
    this.#port.postMessage(this.#outbox, this.#outboxTransfer);
    this.#outbox = [];
    this.#outboxTransfer = [];
  }

  /**
   * Withdraws a call the thread has not started. Its slot stays reserved until the thread says
   * it skipped it, so a later call cannot be mistaken for it. False if the call already started.
   */
  withdraw(call: C): boolean {
    if (!this.slots.cancel(call.slot)) return false;
    this.#forget(call);
    return true;
  }

  /** Ends the link (its thread exited): returns the calls it still had. */
  close(): C[] {
    // Answers the thread sent before it went are still in the port: deliver them first.
    for (let r = receiveMessageOnPort(this.#port); r; r = receiveMessageOnPort(this.#port)) {
      for (const reply of r.message as CallReply[]) this.#onReply(reply);
    }
    this.#closed = true;
    const calls = [...this.#calls.values()];
    for (const call of calls) call.link = undefined;
    this.#calls.clear();
    this.#port.close();
    return calls;
  }

  #onReply(reply: CallReply): void {
    if (reply.spare) stagingBuffers.give(reply.spare);
    const call = this.#calls.get(reply.slot);
    if ('skipped' in reply) {
      this.#release(reply.slot);
      return;
    }
    this.#release(reply.slot);
    if (call) {
      this.#forget(call);
      this.#onResponse(call, reply.response);
    }
  }

  #forget(call: C): void {
    if (this.#calls.get(call.slot) === call) this.#calls.delete(call.slot);
    call.link = undefined;
    if (this.#calls.size === 0) this.#port.unref();
  }

  #release(slot: number): void {
    this.slots.free(slot);
    this.#free.push(slot);
  }
}
