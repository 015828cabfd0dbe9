import { describe, expect, it } from 'vitest';
import { runScript } from './pool-helpers.js';
import { WASM_TEST } from './helpers.js';
import {
  callJson,
  expectError,
  guestFolder,
  send,
  slowCall,
  startGateway,
  type Answer,
} from './server-helpers.js';

const SERVER = new URL('../dist/server/index.js', import.meta.url).href;

/** A request made while the gateway closes: refused at connect, or answered 503. */
async function refusedOrUnavailable(request: Promise<Answer>): Promise<void> {
  const outcome = await request.then(
    (answer) => answer,
    (error: Error) => error,
  );
  if (outcome instanceof Error) expect(outcome.message).toMatch(/fetch failed/);
  else expectError(outcome, 503, 'ERR_SHUTTING_DOWN');
}

describe('graceful shutdown', () => {
  it('close() lets a call in flight finish, takes no new requests, then closes', async () => {
    const gateway = await startGateway(guestFolder());
    const { answer } = await slowCall(gateway, 'guest', { ms: 800 });
    const closing = gateway.close({ timeoutMs: 10_000 });
    await refusedOrUnavailable(callJson(gateway, 'guest', 'echo', 1));
    await refusedOrUnavailable(send(`${gateway.url}/healthz`));
    const slow = await answer;
    expect(slow.status).toBe(200);
    expect(slow.body).toMatchObject({ rounds: expect.any(Number) });
    await closing;
    await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow();
    expect(gateway.modules.list().every((m) => m.worker?.state === 'stopped')).toBe(true);
    expect(gateway.close()).toBe(closing);
  });

  it('a call still running at the timeout is answered 503 and the gateway closes anyway', async () => {
    const gateway = await startGateway(guestFolder({ 'guest.json': '{"timeoutMs": 0}' }));
    const { answer } = await slowCall(gateway, 'guest', { ms: 20_000 });
    await gateway.close({ timeoutMs: 100 });
    expectError(await answer, 503, 'ERR_WORKER_STOPPED');
  });

  it('a process that serves, calls and closes exits on its own: nothing is left open', async () => {
    const { code, output } = await runScript(`
      import { copyFileSync, mkdtempSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      import { serve } from ${JSON.stringify(SERVER)};
      const dir = mkdtempSync(join(tmpdir(), 'wasmtube-leak-'));
      copyFileSync(${JSON.stringify(WASM_TEST)}, join(dir, 'guest.wasm'));
      const gateway = await serve({ dir, port: 0, defaults: { threads: 2 } });
      const response = await fetch(gateway.url + '/functions/guest/echo', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ok":true}',
      });
      console.log(response.status, await response.text());
      await fetch(gateway.url + '/metrics');
      await gateway.close();
      console.log('closed');
    `);
    expect(output).toContain('200 {"ok":true}');
    expect(output).toContain('closed');
    expect(code).toBe(0);
  });
});
