import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CallSlots } from '../protocol/call-slots.js';
import type { CompiledModule } from '../bridge/compiled-module.js';
import { deserializeError } from '../errors.js';
import type {
  CallMessage,
  CallReply,
  ControlMessage,
  ControlReply,
  ThreadResponse,
  ThreadTask,
} from '../protocol/messages.js';
import { stagingBuffers } from './staging-buffers.js';
import type { ThreadPool } from './thread-pool.js';

/** What a link needs of a call: the slot it gave it, and to tell it when it takes or lets go. */
export interface LinkedCall {
  readonly slot: number;
  /** The link posted the call in `slot`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  attach(link: ThreadLink<any>, slot: number): void;
  /** The link let go of the call (withdrawn, answered, or its thread is gone). */
  detach(): void;
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
  /** Each call's buffers to move (kept per call, to post calls one by one if a batch fails). */
  #outboxTransfers: ArrayBuffer[][] = [];
  /** The same buffers in one list, as postMessage takes them. */
  #outboxMoves: ArrayBuffer[] = [];
  readonly #onUnsendable: (call: C, error: Error) => void;
  /** {@link #flush}, bound once (not a closure per post). */
  readonly #flushSoon = (): void => this.#flush();
  /** The thread's answer to a reload's prepare step, by reload id. */
  readonly #preparing = new Map<number, (error: Error | undefined) => void>();
  /** The module version the thread serves. */
  version: number;
  /** False while the thread catches up with a version deployed as it started: no calls then. */
  serving = true;

  constructor(
    pool: ThreadPool,
    threadId: number,
    version: number,
    port: MessagePort,
    slots: SharedArrayBuffer,
    onResponse: (call: C, response: ThreadResponse) => void,
    onUnsendable: (call: C, error: Error) => void,
  ) {
    this.#onUnsendable = onUnsendable;
    this.pool = pool;
    this.threadId = threadId;
    this.version = version;
    this.#port = port;
    this.slots = new CallSlots(slots);
    this.#free = Array.from({ length: this.slots.count }, (_, i) => this.slots.count - 1 - i);
    this.#onResponse = onResponse;
    port.on('message', (message: CallReply[] | ControlReply) => {
      this.#onMessage(message);
      // Threads reply to each call as it finishes; take the replies already waiting in one go
      // rather than one event (and microtask checkpoint) each.
      for (let r = receiveMessageOnPort(port); r && !this.#closed; r = receiveMessageOnPort(port)) {
        this.#onMessage(r.message as CallReply[] | ControlReply);
      }
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
    call.attach(this, slot);
    if (this.#calls.size === 0) this.#port.ref();
    this.#calls.set(slot, call);
    if (this.#outbox.length === 0) queueMicrotask(this.#flushSoon);
    this.#outbox.push({ slot, task });
    this.#outboxTransfers.push(transfer);
    for (const buffer of transfer) this.#outboxMoves.push(buffer);
  }

  #flush(): void {
    if (this.#closed || this.#outbox.length === 0) return;
    const outbox = this.#outbox;
    const transfers = this.#outboxTransfers;
    const moves = this.#outboxMoves;
    this.#outbox = [];
    this.#outboxTransfers = [];
    this.#outboxMoves = [];
    try {
      this.#port.postMessage(outbox, moves);
    } catch {
      // A task that cannot be cloned (this runs in a microtask: a throw here would take the
      // process down). Post the calls one by one, so only the unsendable ones fail.
      outbox.forEach((message, i) => this.#postAlone(message, transfers[i]!));
    }
  }

  #postAlone(message: CallMessage, transfer: ArrayBuffer[]): void {
    try {
      this.#port.postMessage([message], transfer);
    } catch (error) {
      const call = this.#calls.get(message.slot);
      this.#release(message.slot);
      if (!call) return;
      this.#forget(call);
      this.#onUnsendable(call, error as Error);
    }
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

  /**
   * Claims a running call so that its thread can be terminated (the only way to stop wasm).
   * False if the call has already finished: its reply is on its way, and terminating the thread
   * now would kill whatever it runs next, someone else's call.
   */
  kill(call: C): boolean {
    return this.slots.kill(call.slot);
  }

  /**
   * Has the thread instantiate (and probe) `compiled` next to the version it serves. Resolves
   * true when it is ready to switch, false if the link closed first; rejects with the thread's
   * error when the new version failed there.
   */
  prepare(id: number, compiled: CompiledModule, version: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      this.#preparing.set(id, (error) => (error ? reject(error) : resolve(!this.#closed)));
      this.#control({ control: 'prepare', id, compiled, version });
    });
  }

  /**
   * Switches the thread to the version prepared under `id`. It takes effect before any call the
   * thread has not started, including calls already posted to it.
   */
  commit(id: number, version: number): void {
    this.#control({ control: 'commit', id });
    this.version = version;
  }

  /** Drops the version prepared under `id`. */
  abort(id: number): void {
    this.#control({ control: 'abort', id });
  }

  #control(message: ControlMessage): void {
    if (this.#closed) return;
    if (message.control === 'prepare') this.#port.ref(); // until the thread answers
    this.#port.postMessage(message);
    // After the post: when the thread sees the flag, the message is in its port.
    this.slots.raiseControl();
  }

  /** Ends the link (its thread exited): returns the calls it still had. */
  close(): C[] {
    // Answers the thread sent before it went are still in the port: deliver them first.
    for (let r = receiveMessageOnPort(this.#port); r; r = receiveMessageOnPort(this.#port)) {
      this.#onMessage(r.message as CallReply[] | ControlReply);
    }
    this.#closed = true;
    for (const settle of this.#preparing.values()) settle(undefined);
    this.#preparing.clear();
    const calls = [...this.#calls.values()];
    for (const call of calls) call.detach();
    this.#calls.clear();
    this.#port.close();
    return calls;
  }

  #onMessage(message: CallReply[] | ControlReply): void {
    if (!Array.isArray(message)) {
      const settle = this.#preparing.get(message.id);
      this.#preparing.delete(message.id);
      this.#unrefIfIdle();
      settle?.(message.error && deserializeError(message.error));
      return;
    }
    for (const reply of message) this.#onReply(reply);
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
    call.detach();
    this.#unrefIfIdle();
  }

  /** An idle channel must not keep the process alive; one with calls or a prepare must. */
  #unrefIfIdle(): void {
    if (this.#calls.size === 0 && this.#preparing.size === 0) this.#port.unref();
  }

  #release(slot: number): void {
    this.slots.free(slot);
    this.#free.push(slot);
  }
}
