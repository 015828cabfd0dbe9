import type { FastifyInstance } from 'fastify';
import { InvalidArgumentError } from '../errors.js';
import type { EventHub, GatewayEvent } from './event-hub.js';
import { LOG_LEVELS, type LogBook } from './log-book.js';

/** What the event routes need from the gateway. */
export interface EventRouteParts {
  events: EventHub;
  logs: LogBook;
}

interface EventsQuery {
  /** Comma-separated event types to send (default: all). */
  types?: string;
  /** Only events about this module (events about no module, `stats`, are still sent). */
  module?: string;
}

interface LogsQuery {
  module?: string;
  level?: string;
  limit?: string;
}

/** A comment line every so often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * `GET /events`: the gateway's live state as Server-Sent Events, each a `data:` line of JSON with
 * a `type` (a `snapshot` first, then `stats` every second, the modules' activity, `call-error`s
 * and `log` lines). `GET /admin/status`: the snapshot as JSON. `GET /admin/logs`: recent log lines.
 * Reading routes: the gateway's token, if it has one, is needed as on every route.
 */
export function registerEventRoutes(app: FastifyInstance, parts: EventRouteParts): void {
  const { events, logs } = parts;

  app.get<{ Querystring: EventsQuery }>('/events', (request, reply) => {
    const types = request.query.types?.split(',').filter(Boolean);
    const module = request.query.module;
    const wanted = (event: GatewayEvent) =>
      (types === undefined || types.includes(event.type)) &&
      (module === undefined || !('module' in event) || event.module === module);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (event: GatewayEvent) => {
      if (!wanted(event)) return;
      if (raw.destroyed || raw.writableEnded) throw new Error('the client has gone');
      raw.write(`data: ${JSON.stringify(event)}\n\n`);
    };
    // The client reconnects after 2 s if the connection drops (EventSource's retry).
    raw.write('retry: 2000\n\n');
    send(events.snapshot());
    const heartbeat = setInterval(() => raw.write(': ping\n\n'), HEARTBEAT_MS).unref();
    const unsubscribe = events.subscribe(send, () => raw.end());
    raw.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });

  app.get('/admin/status', async () => events.snapshot());

  app.get<{ Querystring: LogsQuery }>('/admin/logs', async (request) => {
    const { module, level, limit } = request.query;
    const minLevel = level === undefined ? undefined : LOG_LEVELS[level];
    if (level !== undefined && minLevel === undefined) {
      throw new InvalidArgumentError(
        `level must be one of ${Object.keys(LOG_LEVELS).join(', ')}, got ${JSON.stringify(level)}.`,
      );
    }
    const count = limit === undefined ? undefined : Number(limit);
    if (count !== undefined && !(Number.isInteger(count) && count > 0)) {
      throw new InvalidArgumentError(
        `limit must be a positive integer, got ${JSON.stringify(limit)}.`,
      );
    }
    return { lines: logs.recent({ module, minLevel, limit: count }) };
  });
}
