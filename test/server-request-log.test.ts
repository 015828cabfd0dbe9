// The gateway's per-request log: one line per answered request (not fastify's two), with the
// request, the reply and its time; those lines stay out of the log book (`GET /admin/logs`).
import { afterEach, describe, expect, it } from 'vitest';
import { callJson, captureLog, guestFolder, send, startGateway } from './server-helpers.js';

describe('gateway request log', () => {
  const lines: Record<string, unknown>[] = [];
  afterEach(() => {
    lines.length = 0;
  });

  it('logs each request once, when answered, with its method, url, status and time', async () => {
    const gateway = await startGateway(guestFolder(), { logger: captureLog(lines, 'info') });
    const ok = await callJson(gateway, 'guest', 'echo', { a: 1 });
    expect(ok.status).toBe(200);
    const missing = await callJson(gateway, 'guest', 'no_such_function', { a: 1 });
    expect(missing.status).toBe(404);

    const requestLines = lines.filter((line) => /request/.test(String(line.msg)) && line.reqId);
    expect(requestLines.map((line) => line.msg)).toEqual([
      'request completed',
      'request completed',
    ]);
    expect(lines.some((line) => line.msg === 'incoming request')).toBe(false);
    const [first, second] = requestLines as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(first!.req).toMatchObject({ method: 'POST', url: '/functions/guest/echo' });
    expect(first!.res).toEqual({ statusCode: 200 });
    expect(typeof first!.responseTime).toBe('number');
    expect(second!.req).toMatchObject({ url: '/functions/guest/no_such_function' });
    expect(second!.res).toEqual({ statusCode: 404 });

    // The book keeps the gateway's own lines, not the access log.
    const book = await send(`${gateway.url}/admin/logs`);
    expect(book.status).toBe(200);
    const messages = (book.body.lines as Array<{ msg: string }>).map((line) => line.msg);
    expect(messages).toContain('deployed');
    expect(messages).not.toContain('request completed');
    expect(messages).not.toContain('incoming request');
  });
});
