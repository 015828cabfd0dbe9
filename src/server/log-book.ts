import { EventEmitter } from 'node:events';
import { LineBuffer } from './line-buffer.js';

/** A log line as `GET /admin/logs` and the `log` event carry it (pino's fields, parsed). */
export interface LogEntry {
  /** pino's numeric level (30 info, 40 warn, 50 error). */
  level: number;
  /** ms since the epoch. */
  time: number;
  msg: string;
  /** The module the line is about, when it is about one. */
  module?: string;
  [field: string]: unknown;
}

/** Events of a {@link LogBook}. */
export interface LogBookEvents {
  line: [entry: LogEntry];
}

/** pino's level numbers by name, for `?level=`. */
export const LOG_LEVELS: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** fastify's per-request lines: the request log is in the access log, not in the book. */
const REQUEST_LINES = new Set(['incoming request', 'request completed']);
const REQUEST_LINE_ENDS = [...REQUEST_LINES].map((msg) => `"msg":"${msg}"}\n`);

/**
 * The gateway's recent log lines, kept in memory for `wasmtube logs` and the dashboard: a pino
 * destination (`write(line)`) that parses each JSON line, keeps the last `capacity`, and emits
 * `line` for followers. Lines that are not JSON are ignored.
 */
export class LogBook extends EventEmitter<LogBookEvents> {
  readonly #capacity: number;
  readonly #entries: LogEntry[] = [];

  constructor(capacity = 1000) {
    super();
    this.#capacity = capacity;
  }

  /** pino's destination interface. */
  write(line: string): boolean {
    // pino writes `msg` last: skip the per-request lines without parsing them.
    if (REQUEST_LINE_ENDS.some((end) => line.endsWith(end))) return true;
    let entry: LogEntry;
    try {
      entry = JSON.parse(line) as LogEntry;
    } catch {
      return true; // not one of pino's lines: nothing to keep
    }
    if (typeof entry.msg !== 'string' || REQUEST_LINES.has(entry.msg)) return true;
    this.#entries.push(entry);
    if (this.#entries.length > this.#capacity) this.#entries.shift();
    this.emit('line', entry);
    return true;
  }

  /** The kept lines, oldest first, of `module` (if given) at `minLevel` or above, the last `limit`. */
  recent(filter: { module?: string; minLevel?: number; limit?: number } = {}): LogEntry[] {
    const picked = this.#entries.filter((entry) => matches(entry, filter));
    return picked.slice(-(filter.limit ?? this.#capacity));
  }
}

/** Whether a line passes a `module` and `minLevel` filter. */
export function matches(entry: LogEntry, filter: { module?: string; minLevel?: number }): boolean {
  if (filter.module !== undefined && entry.module !== filter.module) return false;
  return entry.level >= (filter.minLevel ?? 0);
}

/**
 * A pino destination writing each line to every one of `streams`. The process's stdout and
 * stderr, written synchronously (one system call per line), get their lines in one write per
 * event-loop turn ({@link LineBuffer}); other destinations get each line as it comes (some
 * expect one line per `write`, and a file stream may be ended right after the last line).
 */
export function teeStream(...streams: { write(line: string): unknown }[]): {
  write(line: string): boolean;
} {
  const targets = streams.map((stream) =>
    stream === process.stdout || stream === process.stderr
      ? new LineBuffer(stream as NodeJS.WriteStream)
      : stream,
  );
  return {
    write(line: string): boolean {
      for (const target of targets) target.write(line);
      return true;
    },
  };
}
