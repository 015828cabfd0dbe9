// The gateway's admin routes and event stream, over real HTTP on 127.0.0.1.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../dist/server/index.js';
import { versionGuest } from './guests.js';
import { callJson, expectError, send, startGateway, tempFolder, until } from './server-helpers.js';

type Event = { type: string; [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Reads `GET /events` into `events` until `stop()`. */
async function listen(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const events: Event[] = [];
  const response = await fetch(`${url}/events`, { headers, signal: controller.signal });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)));
          }
        }
      }
    } catch {
      // aborted by stop()
    }
  })();
  return {
    events,
    next: async (match: (e: Event) => boolean, what: string) => {
      await until(async () => events.some(match), what);
      return events.find(match)!;
    },
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

const put = (url: string, body: Uint8Array | string, type: string) =>
  send(url, { method: 'PUT', headers: { 'content-type': type }, body });

describe('GET /events', () => {
  it('a snapshot first, then activity, stats and call errors, each JSON with a type', async () => {
    const dir = tempFolder({ 'm.wasm': versionGuest(1) });
    const gateway = await startGateway(dir);
    const stream = await listen(gateway.url);
    try {
      const snapshot = await stream.next((e) => e.type === 'snapshot', 'the snapshot');
      expect(stream.events[0]!.type).toBe('snapshot');
      expect(snapshot.modules.map((m: Event) => [m.name, m.version, m.state])).toEqual([
        ['m', 1, 'serving'],
      ]);
      expect(snapshot.timeline.map((e: Event) => [e.type, e.module])).toEqual([['deploy', 'm']]);

      const deployed = await put(
        `${gateway.url}/admin/modules/m`,
        versionGuest(2),
        'application/wasm',
      );
      expect(deployed.status).toBe(200);
      expect(deployed.body.module).toMatchObject({ name: 'm', version: 2, state: 'serving' });
      const reload = await stream.next((e) => e.type === 'reload', 'a reload event');
      expect(reload).toMatchObject({ module: 'm', version: 2 });
      expect(typeof reload.hash).toBe('string');

      for (let i = 0; i < 3; i++) await callJson(gateway, 'm', 'which');
      expectError(await callJson(gateway, 'm', 'boom'), 500, 'ERR_GUEST_TRAP');
      const error = await stream.next((e) => e.type === 'call-error', 'a call-error event');
      expect(error).toMatchObject({ module: 'm', fn: 'boom', code: 'ERR_GUEST_TRAP' });
      const stats = await stream.next(
        (e) => e.type === 'stats' && e.modules[0]?.failures === 1,
        'stats counting the failure',
      );
      expect(stats.modules[0]).toMatchObject({
        name: 'm',
        version: 2,
        calls: 4,
        failuresByCode: { ERR_GUEST_TRAP: 1 },
      });
      expect(stats.modules[0].threads).toMatchObject({ target: 1, alive: 1 });
      expect(stream.events.every((e) => typeof e.type === 'string')).toBe(true);
    } finally {
      await stream.stop();
    }
  });

  it('?types= filters; closing the gateway ends the stream', async () => {
    const gateway = await startGateway(tempFolder({ 'm.wasm': versionGuest(1) }));
    const response = await fetch(`${gateway.url}/events?types=log`);
    const reading = response.text();
    await callJson(gateway, 'm', 'which');
    const started = Date.now();
    await gateway.close({ timeoutMs: 1000 });
    const text = await reading;
    expect(Date.now() - started).toBeLessThan(5000);
    const types = text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)).type);
    expect(new Set(types)).toEqual(new Set(['log']));
  });
});

describe('admin routes', () => {
  it('deploy validates before writing: not a module, a bad name, a bad sidecar', async () => {
    const dir = tempFolder();
    const gateway = await startGateway(dir);
    expectError(
      await put(`${gateway.url}/admin/modules/x`, 'not wasm', 'application/wasm'),
      400,
      'ERR_WASM_COMPILE',
    );
    expectError(
      await put(`${gateway.url}/admin/modules/..x`, versionGuest(1), 'application/wasm'),
      400,
      'ERR_MODULE_NAME_INVALID',
    );
    expectError(
      await put(`${gateway.url}/admin/modules/x/sidecar`, '{"threads":"many"}', 'application/json'),
      400,
      'ERR_SIDECAR_INVALID',
    );
    expect(readdirSync(dir)).toEqual([]);
    expectError(
      await send(`${gateway.url}/admin/modules/x`, { method: 'DELETE' }),
      404,
      'ERR_MODULE_NOT_FOUND',
    );
  });

  it('deploy writes the file atomically and the module serves when it answers', async () => {
    const dir = tempFolder();
    const gateway = await startGateway(dir);
    const answer = await put(`${gateway.url}/admin/modules/n`, versionGuest(1), 'application/wasm');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ done: 'deploy', module: { name: 'n', version: 1 } });
    expect((await callJson(gateway, 'n', 'which')).body).toEqual({ v: 1 });
    expect(readdirSync(dir)).toEqual(['n.wasm']); // no temporary file left
    const removed = await send(`${gateway.url}/admin/modules/n`, { method: 'DELETE' });
    expect(removed.body).toMatchObject({ done: 'undeploy' });
    expect(existsSync(join(dir, 'n.wasm'))).toBe(false);
    expect((await callJson(gateway, 'n', 'which')).status).toBe(404);
  });

  it('deploy takes a component as it takes a core module', async () => {
    const dir = tempFolder();
    const gateway = await startGateway(dir);
    const sidecar = await put(
      `${gateway.url}/admin/modules/caesar/sidecar`,
      readFileSync(new URL('../examples/caesar.json', import.meta.url), 'utf8'),
      'application/json',
    );
    expect(sidecar.status).toBe(200);
    const answer = await put(
      `${gateway.url}/admin/modules/caesar`,
      readFileSync(new URL('../examples/caesar.wasm', import.meta.url)),
      'application/wasm',
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const secret = await callJson(gateway, 'caesar', 'encrypt', { message: 'hello world' });
    expect(secret.status).toBe(200);
    // A truncated component is refused before anything is written.
    const truncated = readFileSync(new URL('../examples/caesar.wasm', import.meta.url)).subarray(
      0,
      300,
    );
    expectError(
      await put(`${gateway.url}/admin/modules/c2`, truncated, 'application/wasm'),
      400,
      'ERR_WASM_COMPILE',
    );
    expect(existsSync(join(dir, 'c2.wasm'))).toBe(false);
  });

  it('without a token, a gateway beyond loopback refuses routes that change state (403)', async () => {
    const gateway = await createGateway({
      dir: tempFolder({ 'm.wasm': versionGuest(1) }),
      logger: false,
    });
    try {
      const url = (await gateway.listen({ host: '0.0.0.0', port: 0 })).replace(
        '0.0.0.0',
        '127.0.0.1',
      );
      expectError(
        await put(`${url}/admin/modules/m`, versionGuest(2), 'application/wasm'),
        403,
        'ERR_FORBIDDEN',
      );
      expectError(
        await send(`${url}/admin/modules/m/reload`, { method: 'POST' }),
        403,
        'ERR_FORBIDDEN',
      );
      expectError(await send(`${url}/admin/modules/m`, { method: 'DELETE' }), 403, 'ERR_FORBIDDEN');
      // Reading is allowed, as every other route of a gateway without a token.
      expect((await send(`${url}/admin/status`)).status).toBe(200);
      expect((await send(url)).status).toBe(200);
    } finally {
      await gateway.close({ timeoutMs: 1000 });
    }
  });

  it('with a token, every data route needs it; the page and its files do not', async () => {
    const gateway = await startGateway(tempFolder({ 'm.wasm': versionGuest(1) }), { token: 't' });
    for (const path of ['/events', '/admin/status', '/admin/logs', '/functions']) {
      expectError(await send(`${gateway.url}${path}`), 401, 'ERR_UNAUTHORIZED');
    }
    expectError(
      await send(`${gateway.url}/admin/modules/m/reload`, { method: 'POST' }),
      401,
      'ERR_UNAUTHORIZED',
    );
    const page = await send(gateway.url);
    expect([page.status, page.headers.get('content-type')]).toEqual([
      200,
      'text/html; charset=utf-8',
    ]);
    expect((await send(`${gateway.url}/dashboard/dashboard.js`)).status).toBe(200);
    expectError(
      await send(`${gateway.url}/dashboard/..%2Fpackage.json`),
      404,
      'ERR_ROUTE_NOT_FOUND',
    );
    const auth = { authorization: 'Bearer t' };
    const reload = await send(`${gateway.url}/admin/modules/m/reload`, {
      method: 'POST',
      headers: auth,
    });
    expect(reload.body.module.version).toBe(2);
    const logs = await send(`${gateway.url}/admin/logs?module=m`, { headers: auth });
    expect(logs.body.lines.map((l: Event) => l.msg)).toContain('restarted on fresh threads');
  });
});
