import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { versionGuest } from './guests.js';
import { callJson, guestFolder, send, startGateway, until } from './server-helpers.js';

/** The value of one sample line of a Prometheus text exposition, or undefined. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (matches) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('GET /metrics', () => {
  it('counts calls by module, function and outcome, with latency, queue, version and restarts', async () => {
    const dir = guestFolder({
      'guest.json': JSON.stringify({ timeoutMs: 200 }),
      'v.wasm': versionGuest(1),
    });
    const gateway = await startGateway(dir);
    await callJson(gateway, 'guest', 'echo', 1);
    await callJson(gateway, 'guest', 'echo', 2);
    await callJson(gateway, 'guest', 'trap', null);
    await callJson(gateway, 'guest', 'endless_loop', null);
    await callJson(gateway, 'guest', 'no_such_function', null);

    writeFileSync(join(dir, 'v.wasm'), versionGuest(2));
    await until(async () => (await callJson(gateway, 'v', 'which')).body?.v === 2, 'v2');

    const scrape = async () => (await send(`${gateway.url}/metrics`)).body.toString('utf8');
    // The timed-out call's thread is replaced after its answer: wait for that restart.
    await until(
      async () =>
        sample(await scrape(), 'wasmtube_thread_restarts_total', { reason: 'timeout' }) === 1,
      'the restart counted',
    );
    const answer = await send(`${gateway.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = answer.body.toString('utf8');
    const m = (name: string, labels: Record<string, string> = {}) => sample(text, name, labels);
    expect(m('wasmtube_calls_total', { module: 'guest', function: 'echo', outcome: 'ok' })).toBe(2);
    expect(m('wasmtube_calls_total', { function: 'trap', outcome: 'ERR_GUEST_TRAP' })).toBe(1);
    expect(
      m('wasmtube_calls_total', { function: 'endless_loop', outcome: 'ERR_CALL_TIMEOUT' }),
    ).toBe(1);
    expect(
      m('wasmtube_calls_total', { function: '_unknown', outcome: 'ERR_EXPORT_NOT_FOUND' }),
    ).toBe(1);
    expect(m('wasmtube_call_duration_seconds_count', { module: 'guest', function: 'echo' })).toBe(
      2,
    );
    expect(m('wasmtube_call_duration_seconds_bucket', { function: 'echo', le: '+Inf' })).toBe(2);
    expect(m('wasmtube_queue_depth', { module: 'guest' })).toBe(0);
    expect(m('wasmtube_calls_running', { module: 'guest' })).toBe(0);
    expect(m('wasmtube_threads', { module: 'guest' })).toBeGreaterThanOrEqual(0);
    expect(m('wasmtube_module_up', { module: 'guest' })).toBe(1);
    expect(m('wasmtube_module_version', { module: 'v' })).toBe(2);
    expect(m('wasmtube_reloads_total', { module: 'v', outcome: 'ok' })).toBe(1);
    expect(m('wasmtube_deploys_total', { module: 'guest', outcome: 'ok' })).toBe(1);
    expect(m('wasmtube_thread_restarts_total', { module: 'guest', reason: 'timeout' })).toBe(1);
    expect(m('process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });
});
