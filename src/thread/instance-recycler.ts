/**
 * When a thread replaces its instance with a fresh one: between calls, never during one, after
 * `maxCallsPerInstance` calls, `maxInstanceAgeMs`, or when the guest's memory grew above
 * `maxMemoryBytes`.
 */
import type { RecyclePolicy } from '../protocol/messages.js';
import type { Wasmtube } from '../wasmtube.js';

export class InstanceRecycler {
  readonly #policy: RecyclePolicy;
  /** Calls finished on the serving instance. */
  #calls = 0;
  #bornAt = Date.now();

  constructor(policy: RecyclePolicy) {
    this.#policy = policy;
  }

  /** A new instance serves from now on. */
  renew(): void {
    this.#calls = 0;
    this.#bornAt = Date.now();
  }

  /** A call finished (whichever instance it ran on). */
  count(): void {
    this.#calls++;
  }

  /**
   * After a call on the serving instance: resets it when the policy says so, so the next call
   * gets a fresh instance. `instance` is the generation the call reported: an instance reset
   * during the call (by the bridge) also starts the count again.
   */
  recycle(bridge: Wasmtube, instance: number): void {
    const { maxCallsPerInstance, maxInstanceAgeMs, maxMemoryBytes } = this.#policy;
    if (
      this.#calls >= maxCallsPerInstance ||
      Date.now() - this.#bornAt >= maxInstanceAgeMs ||
      bridge.memoryBytes > maxMemoryBytes
    ) {
      bridge.reset();
    }
    if (bridge.instanceGeneration !== instance) this.renew();
  }
}
