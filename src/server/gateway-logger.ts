import type { FastifyServerOptions } from 'fastify';
import { teeStream, type LogBook } from './log-book.js';

/**
 * Fastify's `logger` option for a gateway whose log lines also go to its {@link LogBook} (for
 * `wasmtube logs` and the dashboard): `false` keeps info and above in the book only; `true` and
 * pino options write where they would, and to the book. A pino `transport` cannot be shared:
 * the book then stays empty.
 */
export function gatewayLogger(
  option: FastifyServerOptions['logger'],
  book: LogBook,
): FastifyServerOptions['logger'] {
  if (!option) return { level: 'info', stream: book };
  if (option === true) return { level: 'info', stream: teeStream(process.stdout, book) };
  if ('transport' in option && option.transport !== undefined) return option;
  const own = (option as { stream?: { write(line: string): unknown } }).stream ?? process.stdout;
  return { ...option, stream: teeStream(own, book) };
}
