// The function-call route reads JSON bodies as bytes (src/server/json-body.ts): checked to be JSON
// as fastify's parser checks them, then handed to the guest as sent, without a parse → stringify
// round trip on the main thread. Real gateway on 127.0.0.1, the Rust test guest's byte echo.
import { beforeEach, describe, expect, it } from 'vitest';
import { expectError, guestFolder, send, startGateway } from './server-helpers.js';

type Gateway = Awaited<ReturnType<typeof startGateway>>;

describe('JSON bodies of function calls', () => {
  let gateway: Gateway;
  const echo = (body: string | Uint8Array, query = '', type = 'application/json') =>
    send(`${gateway.url}/functions/guest/echo${query}`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    });

  // Closed after each test by server-helpers.
  beforeEach(async () => {
    gateway = await startGateway(guestFolder());
  });

  it('reach the guest as sent: an integer beyond 2^53 keeps its digits; answered as JSON', async () => {
    // A parse → stringify round trip in JavaScript would have sent 12345678901234567000; the
    // echo guest (serde_json) reads the bytes and writes its JSON back.
    const text = '{ "n": 12345678901234567890,\n  "s": "\\u00e9" }';
    const raw = await echo(text, '?format=bytes');
    expect(raw.status).toBe(200);
    expect(raw.body.toString('utf8')).toContain('"n":12345678901234567890');
    expect(JSON.stringify(JSON.parse(text))).toContain('12345678901234567000');
    // Without a format: JSON, as for any JSON call (the bytes input is not answered as bytes).
    const answer = await echo(text);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(answer.body).toEqual(JSON.parse(text));
  });

  it('a byte order mark is accepted and not passed on; malformed UTF-8 reaches the guest as U+FFFD', async () => {
    const bom = await echo(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[1]')]),
      '?format=bytes',
    );
    expect(bom.status).toBe(200);
    expect(bom.body.toString('utf8')).toBe('[1]');
    const malformed = Buffer.concat([Buffer.from('"a'), Buffer.from([0xff]), Buffer.from('b"')]);
    const answer = await echo(malformed, '?format=bytes');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(Buffer.from('"a\uFFFDb"'));
  });

  it('invalid or empty JSON is still a 400 ERR_BAD_REQUEST, and the gateway keeps serving', async () => {
    for (const body of ['{"a":', '{a:1}', 'nul', '']) {
      const answer = await echo(body);
      expectError(answer, 400, 'ERR_BAD_REQUEST');
      expect(answer.body.error.message).toMatch(/JSON/i);
    }
    expect((await echo('{"ok":true}')).body).toEqual({ ok: true });
  });

  it('width and height with a JSON body are refused as before', async () => {
    expectError(await echo('{}', '?width=2&height=2'), 400, 'ERR_INVALID_ARGUMENT');
  });

  it('Accept: application/octet-stream still asks for the result as bytes', async () => {
    const answer = await send(`${gateway.url}/functions/guest/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/octet-stream' },
      body: '{"b": 2}',
    });
    expect(answer.headers.get('content-type')).toBe('application/octet-stream');
    expect(answer.body.toString()).toBe('{"b":2}');
  });
});
