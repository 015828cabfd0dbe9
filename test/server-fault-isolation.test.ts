import { describe, expect, it } from 'vitest';
import { callJson, expectError, guestFolder, startGateway } from './server-helpers.js';

const roundsFor = (ms: number): number => Math.round(ms * 600_000);

describe('gateway: a fault fails only the request that caused it', () => {
  it('echoes beside a request that times out all answer 200', async () => {
    const gateway = await startGateway(guestFolder(), {
      // Ten times the slow call's run, so a loaded machine does not time it out too.
      defaults: { threads: 1, timeoutMs: 1000 },
    });
    // Behind a slow call, the echoes and the loop wait on the thread together.
    const slow = callJson(gateway, 'guest', 'work', { rounds: roundsFor(100) });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const echoes = Array.from({ length: 20 }, (_, i) => callJson(gateway, 'guest', 'echo', { i }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const loop = callJson(gateway, 'guest', 'endless_loop', {});
    expect((await slow).status).toBe(200);
    const answers = await Promise.all(echoes);
    expect(answers.map((a) => [a.status, a.body])).toEqual(
      Array.from({ length: 20 }, (_, i) => [200, { i }]),
    );
    expectError(await loop, 504, 'ERR_CALL_TIMEOUT');
  });

  it("a client that disconnects does not fail another client's request", async () => {
    const gateway = await startGateway(guestFolder(), { defaults: { threads: 1 } });
    const controller = new AbortController();
    const leaving = fetch(`${gateway.url}/functions/guest/work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rounds: roundsFor(400) }),
      signal: controller.signal,
    }).catch((error: Error) => error.name);
    const staying = Array.from({ length: 10 }, (_, i) => callJson(gateway, 'guest', 'echo', i));
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    expect(await leaving).toBe('AbortError');
    const answers = await Promise.all(staying);
    expect(answers.map((a) => [a.status, a.body])).toEqual(
      Array.from({ length: 10 }, (_, i) => [200, i]),
    );
    expect((await callJson(gateway, 'guest', 'echo', 'after')).body).toBe('after');
  });
});
