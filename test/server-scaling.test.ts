import { describe, expect, it } from 'vitest';
import { createGateway, DEFAULT_MODULE_SETTINGS } from '../dist/server/index.js';
import { rejectsWithCode } from './helpers.js';
import {
  callJson,
  guestFolder,
  moduleStatus,
  send,
  startGateway,
  until,
} from './server-helpers.js';

/** A gateway on `dir` with exactly `defaults` (the shared helper forces `threads: 1`). */
async function withGateway(
  dir: string,
  defaults: Record<string, unknown>,
  test: (gateway: { url: string }) => Promise<void>,
): Promise<void> {
  const gateway = await createGateway({ dir, logger: false, watch: false, defaults });
  try {
    await gateway.listen({ port: 0 });
    await test({ url: gateway.url! });
  } finally {
    await gateway.close({ timeoutMs: 1000 });
  }
}

describe('Gateway modules that scale with load', () => {
  it('the defaults scale: one thread at rest, up to two under load', async () => {
    expect(DEFAULT_MODULE_SETTINGS).toMatchObject({ minThreads: 1, maxThreads: 2 });
    await withGateway(guestFolder(), {}, async (gateway) => {
      const status = await moduleStatus(gateway, 'guest');
      expect(status.threads).toMatchObject({ target: 1, min: 1, max: 2, ready: 1 });
    });
  });

  it('a sidecar scales a module to zero; a call is served, then it goes back to zero', async () => {
    const dir = guestFolder({
      'guest.json': JSON.stringify({ minThreads: 0, maxThreads: 3, idleTimeoutMs: 200 }),
    });
    // The helper's defaults give `threads: 1`: the sidecar's min/max replace it.
    const gateway = await startGateway(dir);
    expect((await moduleStatus(gateway, 'guest')).threads).toMatchObject({
      target: 0,
      min: 0,
      max: 3,
      alive: 0,
    });
    const answer = await callJson(gateway, 'guest', 'echo', { hello: 'zero' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ hello: 'zero' });
    const metrics = (await send(`${gateway.url}/metrics`)).body.toString('utf8');
    expect(metrics).toMatch(/wasmtube_threads_max\{module="guest"\} 3/);
    expect(metrics).toMatch(/wasmtube_threads_min\{module="guest"\} 0/);
    await until(
      async () => (await moduleStatus(gateway, 'guest')).threads.alive === 0,
      'the module back to zero threads',
    );
    expect((await callJson(gateway, 'guest', 'echo', 1)).status).toBe(200);
  });

  it('a sidecar threads replaces the defaults min/max', async () => {
    const dir = guestFolder({ 'guest.json': JSON.stringify({ threads: 2 }) });
    await withGateway(dir, { minThreads: 0, maxThreads: 4 }, async (gateway) => {
      expect((await moduleStatus(gateway, 'guest')).threads).toMatchObject({ min: 2, max: 2 });
    });
  });

  it('bad thread settings are typed errors', async () => {
    for (const sidecar of [
      { threads: 2, minThreads: 1 },
      { minThreads: -1 },
      { maxThreads: 0 },
      { minThreads: 3, maxThreads: 2 },
      { idleTimeoutMs: 0 },
    ]) {
      const gateway = await startGateway(guestFolder({ 'guest.json': JSON.stringify(sidecar) }));
      expect((await moduleStatus(gateway, 'guest')).error?.code).toBe('ERR_SIDECAR_INVALID');
    }
    await rejectsWithCode(
      createGateway({ dir: guestFolder(), defaults: { minThreads: 3, maxThreads: 1 } }),
      'ERR_INVALID_ARGUMENT',
    );
    for (const blankThreads of [-1, 65, 1.5, 'one']) {
      await rejectsWithCode(
        createGateway({ dir: guestFolder(), blankThreads: blankThreads as number }),
        'ERR_INVALID_ARGUMENT',
      );
    }
  });

  it('blankThreads 2 or 0: a module scaled to zero serves its cold calls either way', async () => {
    const dir = guestFolder({
      'guest.json': JSON.stringify({ minThreads: 0, maxThreads: 1, idleTimeoutMs: 100 }),
    });
    for (const blankThreads of [2, 0]) {
      const gateway = await createGateway({ dir, logger: false, watch: false, blankThreads });
      try {
        await gateway.listen({ port: 0 });
        const at = { url: gateway.url! };
        for (let i = 0; i < 3; i++) {
          await until(async () => (await moduleStatus(at, 'guest')).threads.alive === 0, 'zero');
          const { status, body } = await callJson(at, 'guest', 'echo', { n: i });
          expect({ status, body }).toEqual({ status: 200, body: { n: i } });
        }
      } finally {
        await gateway.close({ timeoutMs: 1000 });
      }
    }
  });
});
