/**
 * The version a thread serves, and the one an in-place reload prepared next to it. Reload steps
 * arrive on the call channel and are taken between calls: prepare (instantiate and probe the new
 * version), then commit (switch to it) or abort (drop it), each naming the prepare's id.
 */
import type { CompiledModule } from '../bridge/compiled-module.js';
import { serializeError } from '../errors.js';
import type { ControlMessage, ControlReply } from '../protocol/messages.js';
import type { Instantiate, Serving } from './instance-factory.js';

/** A version instantiated for a reload: `ready` once instantiated and probed. */
interface Prepared {
  id: number;
  ready: Serving | undefined;
}

export class VersionSlot {
  readonly #instantiate: Instantiate;
  readonly #onPrepared: (reply: ControlReply) => void;
  readonly #onSwitch: () => void;
  #serving: Serving;
  /** Waiting for the supervisor's commit or abort. */
  #prepared: Prepared | undefined;

  /**
   * @param onPrepared posts the answer to a prepare.
   * @param onSwitch called when a commit made a new instance the serving one.
   */
  constructor(
    first: Serving,
    instantiate: Instantiate,
    onPrepared: (reply: ControlReply) => void,
    onSwitch: () => void,
  ) {
    this.#serving = first;
    this.#instantiate = instantiate;
    this.#onPrepared = onPrepared;
    this.#onSwitch = onSwitch;
  }

  /** The instance a call starting now runs on (for its whole run, even if a commit arrives). */
  get serving(): Serving {
    return this.#serving;
  }

  /**
   * Takes a reload step as it arrives (between calls, never during one): a commit applies to
   * calls already waiting in the thread too, since none of them has started.
   */
  control(message: ControlMessage): void {
    if (message.control === 'prepare') this.#prepare(message.id, message.compiled, message.version);
    else if (message.control === 'commit') this.#commit(message.id);
    else this.#take(message.id);
  }

  /** Instantiates `version` next to the serving one; a newer prepare replaces this one. */
  #prepare(id: number, compiled: CompiledModule, version: number): void {
    const entry: Prepared = { id, ready: undefined };
    this.#prepared = entry;
    this.#instantiate(compiled, version).then(
      (ready) => {
        entry.ready = ready;
        this.#onPrepared({ control: 'prepared', id });
      },
      (error: unknown) => {
        if (this.#prepared === entry) this.#prepared = undefined;
        this.#onPrepared({ control: 'prepared', id, error: serializeError(error) });
      },
    );
  }

  #commit(id: number): void {
    const entry = this.#take(id);
    // The supervisor commits only once every thread said prepared, so `ready` is there.
    if (entry?.ready) {
      this.#serving = entry.ready;
      this.#onSwitch();
    }
  }

  /**
   * Ends the prepared version `id` (a commit or an abort). Nothing for another id: a step of a
   * prepare that a newer one replaced, or that failed and was dropped already.
   */
  #take(id: number): Prepared | undefined {
    const entry = this.#prepared;
    if (entry?.id !== id) return undefined;
    this.#prepared = undefined;
    return entry;
  }
}
