import { describe, expect, it } from 'vitest';
import { versionGuest } from './guests.js';
import {
  callJson,
  expectError,
  guestFolder,
  moduleStatus,
  send,
  startGateway,
} from './server-helpers.js';

describe('GET /functions, GET /functions/:module, GET /healthz', () => {
  it('lists modules with version, hash, functions and their conventions, threads and settings', async () => {
    const dir = guestFolder({
      'other.wasm': versionGuest(1),
      'other.json': JSON.stringify({ threads: 3, timeoutMs: 500, maxQueue: 7 }),
    });
    const gateway = await startGateway(dir, { defaults: { maxMemoryMb: 64 } });
    const answer = await send(`${gateway.url}/functions`);
    expect(answer.status).toBe(200);
    const modules = answer.body.modules;
    expect(modules.map((m: { name: string }) => m.name)).toEqual(['guest', 'other']);
    const [guest, other] = modules;
    expect(guest).toMatchObject({
      name: 'guest',
      state: 'serving',
      version: 1,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      file: 'guest.wasm',
      wasi: false,
      threads: { target: 1, alive: 1, ready: 1 },
      queued: 0,
      running: 0,
      settings: { maxMemoryMb: 64 },
    });
    expect(guest.functions).toEqual(
      expect.arrayContaining([
        { name: 'echo', type: '(i32, i32) -> i32', convention: 'wasmtube-data' },
        { name: 'grayscale', type: '(i32, i32, i32, i32) -> i32', convention: 'wasmtube-image' },
      ]),
    );
    expect(other).toMatchObject({
      threads: { target: 3 },
      settings: { timeoutMs: 500, maxQueue: 7, maxMemoryMb: 64 },
    });
    expect(await moduleStatus(gateway, 'other')).toEqual(other);
    expectError(await send(`${gateway.url}/functions/missing`), 404, 'ERR_MODULE_NOT_FOUND');
    expectError(await send(`${gateway.url}/functions/a.b`), 400, 'ERR_MODULE_NAME_INVALID');
  });

  it('calls that are not Wasmtube-ABI functions are refused by signature', async () => {
    const { wat } = await import('./guests.js');
    const dir = guestFolder({
      'odd.wasm': wat(
        '(module (memory (export "memory") 1) (func (export "add") (param i32 i32 i32) (result i32) (local.get 0)))',
      ),
    });
    const gateway = await startGateway(dir);
    expect((await moduleStatus(gateway, 'odd')).functions).toEqual([
      { name: 'add', type: '(i32, i32, i32) -> i32', convention: 'typed' },
    ]);
    expectError(await callJson(gateway, 'odd', 'add', 1), 400, 'ERR_EXPORT_SIGNATURE');
  });

  it('/healthz answers ok', async () => {
    const gateway = await startGateway(guestFolder());
    const answer = await send(`${gateway.url}/healthz`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ok' });
  });
});
