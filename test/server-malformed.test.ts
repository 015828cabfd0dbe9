import { describe, expect, it } from 'vitest';
import { STATUS_BY_CODE } from '../dist/server/index.js';
import {
  captureLog,
  guestFolder,
  rawHttp,
  send,
  startGateway,
  until,
  type RawAnswer,
} from './server-helpers.js';

const HOST = 'Host: 127.0.0.1\r\nConnection: close\r\n';

/** The one answer of a raw request: the status, and the gateway's error body with that code. */
function expectRawError(answers: RawAnswer[], status: number, code: string): void {
  expect(answers).toHaveLength(1);
  const [answer] = answers;
  expect(answer!.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(answer!.text);
  expect({ status: answer!.status, code: body.error?.code }).toEqual({ status, code });
  expect(typeof body.error.message).toBe('string');
  expect(Object.keys(body)).toEqual(['error']);
  // The status is the one the documented table gives the code.
  expect(STATUS_BY_CODE[code]).toBe(status);
}

describe('requests that never reach a route get the gateway error shape', () => {
  it('bad percent-encoding: 400 ERR_BAD_REQUEST', async () => {
    const gateway = await startGateway(guestFolder());
    for (const path of ['/functions/%zz/echo', '/functions/guest/%E0%A4%A', '/functions/%']) {
      const answers = await rawHttp(gateway, `POST ${path} HTTP/1.1\r\n${HOST}\r\n`);
      expectRawError(answers, 400, 'ERR_BAD_REQUEST');
    }
  });

  it('long names: 400 for a module name, 404 for a function, 414 past 1024 characters', async () => {
    const gateway = await startGateway(guestFolder());
    const post = (path: string) =>
      rawHttp(gateway, `POST ${path} HTTP/1.1\r\n${HOST}Content-Length: 0\r\n\r\n`);
    expectRawError(
      await post(`/functions/${'m'.repeat(200)}/echo`),
      400,
      'ERR_MODULE_NAME_INVALID',
    );
    expectRawError(await post(`/functions/guest/${'f'.repeat(200)}`), 404, 'ERR_EXPORT_NOT_FOUND');
    expectRawError(await post(`/functions/guest/${'f'.repeat(2000)}`), 414, 'ERR_URI_TOO_LONG');
    expectRawError(await post(`/functions/${'m'.repeat(2000)}/echo`), 414, 'ERR_URI_TOO_LONG');
  });

  it('unknown method, headers over 16 KiB, broken framing: answered on the socket', async () => {
    const gateway = await startGateway(guestFolder());
    const foo = await rawHttp(gateway, `FOO /healthz HTTP/1.1\r\n${HOST}\r\n`);
    expectRawError(foo, 400, 'ERR_BAD_REQUEST');
    expect(foo[0]!.headers.connection).toBe('close');
    const big = await rawHttp(
      gateway,
      `GET /healthz HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
    );
    expectRawError(big, 431, 'ERR_HEADERS_TOO_LARGE');
    const framing = await rawHttp(
      gateway,
      `POST /functions/guest/echo HTTP/1.1\r\n${HOST}Content-Length: 2\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n{}`,
    );
    expectRawError(framing, 400, 'ERR_BAD_REQUEST');
    const garbage = await rawHttp(gateway, '\x00\x01\x02 not http\r\n\r\n');
    expectRawError(garbage, 400, 'ERR_BAD_REQUEST');
    // A known method without a route is a 404 like any other.
    expectRawError(
      await rawHttp(gateway, `PROPFIND /healthz HTTP/1.1\r\n${HOST}\r\n`),
      404,
      'ERR_ROUTE_NOT_FOUND',
    );
    // CONNECT, which Node hands to a separate listener (found by the fuzz test: no answer).
    expectRawError(
      await rawHttp(gateway, `CONNECT /functions/guest/echo HTTP/1.1\r\n${HOST}\r\n`),
      404,
      'ERR_ROUTE_NOT_FOUND',
    );
    expect((await send(`${gateway.url}/healthz`)).status).toBe(200);
  });

  it('an HTTP/1.1 request without Host: 400 ERR_BAD_REQUEST with a body (HTTP/1.0 needs none)', async () => {
    const gateway = await startGateway(guestFolder());
    expectRawError(
      await rawHttp(gateway, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'),
      400,
      'ERR_BAD_REQUEST',
    );
    const old = await rawHttp(gateway, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(old.map((a) => a.status)).toEqual([200]);
  });

  it('a client that drops during its upload is logged as ERR_ABORTED at info, not an error', async () => {
    const lines: Record<string, unknown>[] = [];
    const gateway = await startGateway(guestFolder(), { logger: captureLog(lines) });
    const answers = await rawHttp(
      gateway,
      `POST /functions/guest/echo HTTP/1.1\r\n${HOST}Content-Type: application/json\r\n` +
        `Content-Length: 100000\r\n\r\n{"a":"`,
      { destroyAfterMs: 100 },
    );
    expect(answers).toEqual([]);
    await until(
      async () => lines.some((line) => line.code === 'ERR_ABORTED' && line.reqId !== undefined),
      'the abort in the log',
      5000,
    );
    const abort = lines.find((line) => line.code === 'ERR_ABORTED' && line.reqId !== undefined);
    expect(abort).toMatchObject({ level: 30, status: 499 });
    expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([]);
    expect(lines.some((line) => line.code === 'ERR_INTERNAL')).toBe(false);
  });
});
