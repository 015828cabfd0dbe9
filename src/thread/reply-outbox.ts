/**
 * The replies a thread posts on its call channel. A finished call's reply leaves at once, before
 * the next call starts: a reply held back for a batch would die with the thread if the next call
 * then had it terminated (timeout, abort). Skips of withdrawn calls wait and ride along with the
 * next reply, or with the flush when the thread runs out of calls.
 */
import type { MessagePort } from 'node:worker_threads';
import type { CallReply, ThreadResponse } from '../protocol/messages.js';
import { reply } from './reply.js';

export class ReplyOutbox {
  readonly #port: MessagePort;
  #replies: CallReply[] = [];
  #transfers: ArrayBuffer[] = [];
  #closed = false;

  constructor(port: MessagePort) {
    this.#port = port;
  }

  /** Posts a finished call's reply now, with the skips waiting, and the buffers they move. */
  send(slot: number, response: ThreadResponse, staging: Uint8Array | undefined): void {
    this.#add(slot, response, staging);
    this.flush();
  }

  /** Queues the skip of a call withdrawn before it started, for the next post. */
  skip(slot: number, staging: Uint8Array | undefined): void {
    this.#add(slot, undefined, staging);
  }

  /** Posts what waits, if anything. */
  flush(): void {
    this.#assertOpen();
    if (this.#replies.length === 0) return;
    this.#port.postMessage(this.#replies, this.#transfers);
    this.#replies = [];
    this.#transfers = [];
  }

  /**
   * The thread is doomed (the main thread claimed its running call and is terminating it): what
   * waits is dropped, and posting anything more is a bug.
   */
  close(): void {
    this.#closed = true;
    this.#replies = [];
    this.#transfers = [];
  }

  #add(slot: number, response: ThreadResponse | undefined, staging: Uint8Array | undefined) {
    this.#assertOpen();
    const { message, transfer } = reply(slot, response, staging);
    this.#replies.push(message);
    this.#transfers.push(...transfer);
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('a doomed thread posted a reply');
  }
}
