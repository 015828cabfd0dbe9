import type { Writable } from 'node:stream';

/** Past this many characters held, the lines are written at once. */
const MAX_HELD = 64 * 1024;

/** Buffers holding lines, written out if the process exits before their turn ends. */
const holding = new Set<LineBuffer>();
let exitHooked = false;

/**
 * Log lines for the process's stdout or stderr, written in one chunk at the end of the
 * event-loop turn instead of one write each: to a file, a pipe or a terminal they are written
 * synchronously, one system call per line, and under HTTP load the gateway logs a line per
 * request on the thread every request goes through. Lines still held when the process exits are
 * written then (synchronously, so they are not lost).
 */
export class LineBuffer {
  readonly #target: Pick<Writable, 'write'>;
  #lines: string[] = [];
  #held = 0;
  readonly #flushLater = () => this.flush();

  constructor(target: Pick<Writable, 'write'>) {
    this.#target = target;
  }

  /** Holds `line` until the end of the turn (or until enough is held). */
  write(line: string): boolean {
    if (this.#lines.length === 0) {
      setImmediate(this.#flushLater);
      holding.add(this);
      if (!exitHooked) {
        exitHooked = true;
        process.once('exit', () => holding.forEach((buffer) => buffer.flush()));
      }
    }
    this.#lines.push(line);
    this.#held += line.length;
    if (this.#held >= MAX_HELD) this.flush();
    return true;
  }

  /** Writes the lines held, in one chunk. */
  flush(): void {
    if (this.#lines.length === 0) return;
    const chunk = this.#lines.length === 1 ? this.#lines[0]! : this.#lines.join('');
    this.#lines = [];
    this.#held = 0;
    holding.delete(this);
    this.#target.write(chunk);
  }
}
