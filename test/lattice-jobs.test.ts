import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Lattice, type JobState } from '../dist/cluster/index.js';
import { WASM_TEST } from './helpers.js';
import {
  describeWithNats,
  startHost,
  startNats,
  stopAll,
  until,
  type HostProcess,
} from './nats-harness.js';

describeWithNats('durable jobs on the lattice', () => {
  let lattice: Lattice;
  let hosts: HostProcess[];

  beforeAll(async () => {
    const nats = (await startNats()).url;
    // The first to open the lattice creates its job queue: a short redelivery for the test.
    lattice = await Lattice.connect({ servers: nats, name: 'jobs', jobAckWaitMs: 1500 });
    hosts = await Promise.all(['j1', 'j2', 'j3'].map((id) => startHost(nats, 'jobs', id)));
    await lattice.deploy('guest', readFileSync(WASM_TEST));
  });

  afterAll(async () => {
    await lattice?.close();
    await stopAll();
  });

  const settled = (id: string, limitMs = 30_000) =>
    until(
      `job ${id} to settle`,
      async () => {
        const state = await lattice.job(id);
        return state.state === 'done' || state.state === 'dead' ? state : undefined;
      },
      limitMs,
    );

  it('runs queued jobs once each and keeps their results', async () => {
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => lattice.enqueue('guest', 'echo', { data: { i } })),
    );
    const states = await Promise.all(ids.map((id) => settled(id)));
    expect(states.map((s) => s.result)).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
    expect(states.every((s) => s.state === 'done' && s.attempts === 1)).toBe(true);
  });

  it('POST /jobs/:module/:fn answers 202 with the id; GET /jobs/:id its state and result', async () => {
    const posted = await fetch(`${hosts[0]!.url}/jobs/guest/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"via":"http"}',
    });
    expect(posted.status).toBe(202);
    const { id } = (await posted.json()) as { id: string };
    await settled(id);
    const state = (await (await fetch(`${hosts[1]!.url}/jobs/${id}`)).json()) as JobState;
    expect(state).toMatchObject({
      state: 'done',
      result: { via: 'http' },
      module: 'guest',
      fn: 'echo',
    });
    const missing = await fetch(`${hosts[0]!.url}/jobs/NOSUCHJOB`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      'ERR_JOB_NOT_FOUND',
    );
  });

  it('a job that keeps failing is dead after maxAttempts, with the last error', async () => {
    const id = await lattice.enqueue('guest', 'trap', { data: null }, { maxAttempts: 2 });
    const state = await settled(id);
    expect(state).toMatchObject({ state: 'dead', attempts: 2, error: { code: 'ERR_GUEST_TRAP' } });
  });

  it('a job whose host is killed runs again elsewhere (at least once)', async () => {
    const ids = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        lattice.enqueue('guest', 'work', { data: { rounds: 300_000_000 + i } }),
      ),
    );
    const victim = await until('a job to run', async () => {
      for (const id of ids) {
        const state = await lattice.job(id);
        if (state.state === 'running' && state.host) return state.host;
      }
      return undefined;
    });
    const host = hosts.find((h) => h.id === victim)!;
    process.kill(host.child.pid!, 'SIGKILL');
    const states = await Promise.all(ids.map((id) => settled(id, 60_000)));
    expect(states.map((s) => s.state)).toEqual(Array(6).fill('done'));
    expect(states.map((s) => (s.result as { rounds: number }).rounds)).toEqual(
      ids.map((_, i) => 300_000_000 + i),
    );
    expect(states.some((s) => s.attempts > 1)).toBe(true);
  });
});
