/** pino level numbers and how a terminal shows them. */
const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
/** pino's own fields, shown in the head of the line rather than as key=value. */
const HEAD = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'module', 'reqId', 'type']);

/**
 * One log line for a terminal: `12:00:01 INFO  echo  deployed  version=1 hash=a321e8aa…`.
 * Errors show their code and message; long values are cut.
 */
export function formatLogLine(entry: Record<string, unknown>): string {
  const time = new Date(typeof entry.time === 'number' ? entry.time : Date.now());
  const clock = time.toTimeString().slice(0, 8);
  const level = LEVELS[entry.level as number] ?? String(entry.level);
  const module = typeof entry.module === 'string' ? `${entry.module}  ` : '';
  const fields = Object.entries(entry)
    .filter(([key]) => !HEAD.has(key))
    .map(([key, value]) => `${key}=${show(value)}`);
  return `${clock} ${level} ${module}${String(entry.msg ?? '')}${fields.length ? `  ${fields.join(' ')}` : ''}`;
}

function show(value: unknown): string {
  if (value && typeof value === 'object') {
    const error = value as { code?: unknown; message?: unknown; type?: unknown };
    if (typeof error.message === 'string') {
      return JSON.stringify(
        `${typeof error.code === 'string' ? `${error.code}: ` : ''}${error.message}`,
      );
    }
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const cut = text.length > 80 ? `${text.slice(0, 77)}…` : text;
  return /[\s"]/.test(cut) ? JSON.stringify(cut) : cut;
}

/** A pino destination that writes {@link formatLogLine} lines to `out`. */
export function prettyStream(out: { write(text: string): unknown }): {
  write(line: string): boolean;
} {
  return {
    write(line: string): boolean {
      try {
        out.write(`${formatLogLine(JSON.parse(line) as Record<string, unknown>)}\n`);
      } catch {
        out.write(line); // not JSON: as it came
      }
      return true;
    },
  };
}
