/**
 * OTP's restart intensity: at most `maxRestarts` restarts within any `periodMs` window.
 * One more means the child is crashing faster than restarting can help.
 */
export class RestartIntensity {
  readonly #maxRestarts: number;
  readonly #periodMs: number;
  readonly #times: number[] = [];

  constructor(maxRestarts: number, periodMs: number) {
    this.#maxRestarts = maxRestarts;
    this.#periodMs = periodMs;
  }

  /** Records a restart at `now`; returns false once the intensity is exceeded. */
  record(now: number = Date.now()): boolean {
    this.#times.push(now);
    while (this.#times.length > 0 && this.#times[0]! <= now - this.#periodMs) this.#times.shift();
    return this.#times.length <= this.#maxRestarts;
  }

  /** Restarts inside the current window. */
  get recent(): number {
    const cutoff = Date.now() - this.#periodMs;
    return this.#times.filter((t) => t > cutoff).length;
  }
}
