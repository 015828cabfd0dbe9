/**
 * The calls a thread received and has not started, in order. Reload steps arriving with them
 * are handed on at once (they are taken between calls, and a commit applies to the waiting
 * calls too).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { now, type CallSlots } from '../protocol/call-slots.js';
import type { CallMessage, ControlMessage } from '../protocol/messages.js';

export class Backlog {
  readonly #port: MessagePort;
  readonly #slots: CallSlots;
  readonly #spinMs: number;
  readonly #onControl: (message: ControlMessage) => void;
  readonly #calls: CallMessage[] = [];

  /**
   * @param spinMs how long {@link next} polls the port for a call before giving up.
   * @param onControl takes a reload step.
   */
  constructor(
    port: MessagePort,
    slots: CallSlots,
    spinMs: number,
    onControl: (message: ControlMessage) => void,
  ) {
    this.#port = port;
    this.#slots = slots;
    this.#spinMs = spinMs;
    this.#onControl = onControl;
  }

  get length(): number {
    return this.#calls.length;
  }

  /** A message of the call channel: calls wait here, a reload step is taken now. */
  accept(message: CallMessage[] | ControlMessage): void {
    if (Array.isArray(message)) this.#calls.push(...message);
    else this.#onControl(message);
  }

  /**
   * The next call to run. Reads the port first if the main thread raised the control flag (a
   * reload step must precede the calls behind it), and when no call waits it keeps polling the
   * port for `spinMs`: waking a sleeping thread costs tens of microseconds, more than most
   * calls. Undefined when none came.
   */
  next(): CallMessage | undefined {
    if (this.#slots.takeControl()) while (this.#poll());
    if (this.#calls.length === 0) this.#poll();
    if (this.#calls.length > 0 || this.#spinMs <= 0) return this.#calls.shift();
    const until = now() + this.#spinMs;
    while (now() < until) if (this.#poll()) return this.#calls.shift();
    return undefined;
  }

  /** Accepts one message waiting on the port, without waiting; false if there was none. */
  #poll(): boolean {
    const received = receiveMessageOnPort(this.#port);
    if (received) this.accept(received.message as CallMessage[] | ControlMessage);
    return received !== undefined;
  }
}
