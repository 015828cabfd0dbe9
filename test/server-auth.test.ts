import { describe, expect, it } from 'vitest';
import { callJson, expectError, guestFolder, send, startGateway } from './server-helpers.js';

const TOKEN = 's3cret-token';
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('bearer token', () => {
  it('every route but /healthz needs the token', async () => {
    const gateway = await startGateway(guestFolder(), { token: TOKEN });
    expect((await send(`${gateway.url}/healthz`)).status).toBe(200);
    for (const path of ['/functions', '/functions/guest', '/metrics', '/nope']) {
      const answer = await send(`${gateway.url}${path}`);
      expectError(answer, 401, 'ERR_UNAUTHORIZED');
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="wasmtube"');
    }
    expectError(await callJson(gateway, 'guest', 'echo', 1), 401, 'ERR_UNAUTHORIZED');
  });

  it('a wrong, malformed or differently sized token is refused; the right one is accepted', async () => {
    const gateway = await startGateway(guestFolder(), { token: TOKEN });
    for (const authorization of [
      'Bearer wrong',
      `Bearer ${TOKEN}x`,
      `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
      TOKEN,
      'Bearer',
    ]) {
      expectError(
        await callJson(gateway, 'guest', 'echo', 1, { authorization }),
        401,
        'ERR_UNAUTHORIZED',
      );
    }
    const ok = await callJson(gateway, 'guest', 'echo', { a: 1 }, bearer);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ a: 1 });
    expect((await send(`${gateway.url}/functions`, { headers: bearer })).status).toBe(200);
    expect((await send(`${gateway.url}/metrics`, { headers: bearer })).status).toBe(200);
    // The token is checked before the route: an unknown route with it is a plain 404.
    expectError(await send(`${gateway.url}/nope`, { headers: bearer }), 404, 'ERR_ROUTE_NOT_FOUND');
  });

  it('without a token configured, no header is needed', async () => {
    const gateway = await startGateway(guestFolder());
    expect((await callJson(gateway, 'guest', 'echo', 1)).status).toBe(200);
  });
});
