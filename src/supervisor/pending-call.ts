import type { ResultKind } from '../types.js';
import type { CallInput } from '../types.js';
import type { ThreadTask } from '../protocol/messages.js';
import { epochNow } from '../protocol/call-slots.js';
import type { LinkedCall, ThreadLink } from './thread-link.js';

/**
 * Where a call is: waiting in the worker's queue, posted to a thread (which may have started or
 * finished it: the slot in shared memory tells), or settled. Moving a call between threads is
 * `posted → queued → posted`, never an abort.
 */
export type CallPlace = 'queued' | 'posted' | 'settled';

/** Why the supervisor stopped a call before its thread answered. */
export type StopReason = 'timeout' | 'queue-timeout' | 'user' | 'stopped' | 'failed';

/** The legal moves of a call; anything else is a bug in the supervisor. */
const MOVES: Readonly<Record<CallPlace, readonly CallPlace[]>> = {
  queued: ['posted', 'settled'],
  posted: ['queued', 'settled'],
  settled: [],
};

/** What a call asks a thread to do, with its per-call options, as admitted. */
export interface CallSpec {
  fn: string;
  input: CallInput | undefined;
  /** `input` holds bytes the call encoded itself (see `toTask`). */
  ownsInput: boolean;
  returns: ResultKind | undefined;
  /** Where a bytes or RGB result is copied when it fits (`options.resultBuffer`). */
  resultBuffer: Uint8Array | undefined;
  typed: ThreadTask['typed'];
  run: ThreadTask['run'];
  timeoutMs: number;
  queueTimeoutMs: number;
  retries: number;
  signal: AbortSignal | undefined;
  /** Resolve with `{ result, info }` rather than the result alone. */
  withInfo: boolean;
}

/**
 * One call from admission to its settlement. It owns where it is ({@link CallPlace}), checks
 * every move, and settles exactly once.
 */
export class PendingCall implements LinkedCall {
  readonly fn: string;
  readonly input: CallInput | undefined;
  readonly ownsInput: boolean;
  readonly returns: ResultKind | undefined;
  readonly resultBuffer: Uint8Array | undefined;
  readonly typed: ThreadTask['typed'];
  readonly run: ThreadTask['run'];
  readonly timeoutMs: number;
  readonly queueTimeoutMs: number;
  readonly withInfo: boolean;
  readonly signal: AbortSignal | undefined;
  readonly createdAt = epochNow();
  /** Runs left on a fresh thread if its thread dies while running it (`retry`). */
  retriesLeft: number;
  /** Times the call was posted to a thread. */
  attempts = 0;
  /** The last thread the call was posted to (0: none yet). */
  threadId = 0;
  /** The thread link the call is posted to, and its slot there; set by the link. */
  link: ThreadLink<PendingCall> | undefined;
  slot = -1;
  /** Why the supervisor stopped it, once it did. */
  stopReason: StopReason | undefined;
  #place: CallPlace = 'queued';
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: unknown) => void;
  #onAbort: (() => void) | undefined;

  constructor(spec: CallSpec, resolve: (value: unknown) => void, reject: (error: unknown) => void) {
    this.fn = spec.fn;
    this.input = spec.input;
    this.ownsInput = spec.ownsInput;
    this.returns = spec.returns;
    this.resultBuffer = spec.resultBuffer;
    this.typed = spec.typed;
    this.run = spec.run;
    this.timeoutMs = spec.timeoutMs;
    this.queueTimeoutMs = spec.queueTimeoutMs;
    this.retriesLeft = spec.retries;
    this.signal = spec.signal;
    this.withInfo = spec.withInfo;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  get place(): CallPlace {
    return this.#place;
  }

  get settled(): boolean {
    return this.#place === 'settled';
  }

  /** Calls `onAbort` once if the caller's signal fires before the call settles. */
  listenForAbort(onAbort: () => void): void {
    if (!this.signal) return;
    this.#onAbort = onAbort;
    this.signal.addEventListener('abort', onAbort, { once: true });
  }

  /** The link posted the call in `slot`. */
  attach(link: ThreadLink<PendingCall>, slot: number): void {
    this.#move('posted');
    this.link = link;
    this.slot = slot;
    this.threadId = link.threadId;
    this.attempts++;
  }

  /** The link let go of the call: withdrawn, answered, or its thread is gone. */
  detach(): void {
    if (this.#place === 'posted') this.#move('queued');
    this.link = undefined;
  }

  /** Resolves (no `error`) or rejects the caller's promise; false if it had settled already. */
  settle(error: unknown, value?: unknown): boolean {
    if (this.#place === 'settled') return false;
    this.#move('settled');
    this.link = undefined;
    if (this.#onAbort) this.signal!.removeEventListener('abort', this.#onAbort);
    if (error === undefined) this.#resolve(value);
    else this.#reject(error);
    return true;
  }

  #move(to: CallPlace): void {
    if (!MOVES[this.#place].includes(to)) {
      throw new Error(`wasmtube internal error: a ${this.#place} call cannot become ${to}`);
    }
    this.#place = to;
  }
}
