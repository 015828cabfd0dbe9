/**
 * A thread's end of its call channel: serves the calls posted on it, one at a time, on the
 * serving instance. The parts own their state — {@link Backlog} (calls received),
 * {@link ReplyOutbox} (replies posted), {@link InstanceRecycler} (fresh instances between calls),
 * {@link VersionSlot} (in-place reloads) — and this class only sequences them.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { serializeError } from '../errors.js';
import { CallSlots, epochNow } from '../protocol/call-slots.js';
import type {
  CallMessage,
  ControlMessage,
  ThreadData,
  ThreadResponse,
} from '../protocol/messages.js';
import { Backlog } from './backlog.js';
import type { HostChannelClient } from './host-channel-client.js';
import type { Instantiate, Serving } from './instance-factory.js';
import { InstanceRecycler } from './instance-recycler.js';
import { stagingBuffer } from './reply.js';
import { ReplyOutbox } from './reply-outbox.js';
import { callInfo, runTask } from './run-task.js';
import { VersionSlot } from './version-slot.js';

export class CallServer {
  /** The main thread's end of the call channel. */
  readonly remotePort: MessagePort;
  /** The call slots of the channel, shared with the main thread. */
  readonly slotBuffer: SharedArrayBuffer;
  readonly #slots: CallSlots;
  readonly #hostChannel: HostChannelClient | undefined;
  readonly #backlog: Backlog;
  readonly #outbox: ReplyOutbox;
  readonly #recycler: InstanceRecycler;
  readonly #versions: VersionSlot;
  /** A drain is running (it may be awaiting a call). */
  #busy = false;
  /**
   * Set when the main thread claimed the call that just ran, to terminate this thread: from
   * then on the thread starts nothing else and posts nothing.
   */
  #doomed = false;

  constructor(
    first: Serving,
    instantiate: Instantiate,
    hostChannel: HostChannelClient | undefined,
    options: Pick<ThreadData, 'slots' | 'spinUs' | 'recycle'>,
  ) {
    const { port1: port, port2 } = new MessageChannel();
    this.remotePort = port2;
    this.#slots = new CallSlots(options.slots);
    this.slotBuffer = this.#slots.buffer;
    this.#hostChannel = hostChannel;
    const recycler = new InstanceRecycler(options.recycle);
    const versions = new VersionSlot(
      first,
      instantiate,
      (reply) => port.postMessage(reply),
      () => recycler.renew(),
    );
    this.#recycler = recycler;
    this.#versions = versions;
    this.#backlog = new Backlog(port, this.#slots, options.spinUs / 1000, (message) =>
      versions.control(message),
    );
    this.#outbox = new ReplyOutbox(port);
    port.on('message', (message: CallMessage[] | ControlMessage) => {
      if (this.#doomed) return;
      this.#backlog.accept(message);
      if (!this.#busy && this.#backlog.length > 0) void this.#drain();
    });
  }

  /** Runs the calls waiting, and those arriving while it polls; then posts the skips left. */
  async #drain(): Promise<void> {
    this.#busy = true;
    while (!this.#doomed) {
      const message = this.#backlog.next();
      if (!message) break;
      await this.#run(message);
    }
    if (!this.#doomed) this.#outbox.flush();
    this.#busy = false;
  }

  async #run({ slot, task }: CallMessage): Promise<void> {
    const startedAt = epochNow();
    // The whole call runs on one version, even if a commit arrives while it awaits.
    const current = this.#versions.serving;
    const staging = stagingBuffer(task);
    if (!this.#slots.start(slot, startedAt)) {
      this.#outbox.skip(slot, staging); // withdrawn by the main thread before it started
      return;
    }
    if (this.#hostChannel) {
      this.#hostChannel.timeoutMs = task.timeoutMs > 0 ? task.timeoutMs + 1000 : Infinity;
    }
    let response: ThreadResponse;
    try {
      // Most calls run synchronously: their reply then leaves without a microtask hop.
      let value = runTask(current.bridge, task, staging);
      if (value instanceof Promise) value = await value;
      response = { ok: true, value, info: callInfo(current, startedAt) };
    } catch (error) {
      response = { ok: false, error: serializeError(error), info: callInfo(current, startedAt) };
    }
    if (!this.#slots.finish(slot)) {
      this.#doom();
      return;
    }
    // Recycle between calls, never during one. (An instance a reload replaced during the call
    // is dropped anyway.)
    this.#recycler.count();
    if (this.#versions.serving === current) {
      this.#recycler.recycle(current.bridge, response.info.instance);
    }
    this.#outbox.send(slot, response, staging);
    // 'call' isolation: the instance goes back to its ready state while the reply travels.
    current.bridge.settle();
  }

  /** The main thread claimed the running call to terminate this thread, which is going away. */
  #doom(): void {
    this.#doomed = true;
    this.#outbox.close();
  }
}
