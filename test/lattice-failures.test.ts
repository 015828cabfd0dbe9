import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Lattice } from '../dist/cluster/index.js';
import { runCli } from './cli-helpers.js';
import { WASM_TEST } from './helpers.js';
import {
  describeWithNats,
  startHost,
  startNats,
  stopAll,
  until,
  type HostProcess,
} from './nats-harness.js';

/** Runs `calls` calls with `inFlight` at a time; resolves with each outcome. */
async function load(
  call: (i: number) => Promise<unknown>,
  calls: number,
  inFlight: number,
  onProgress?: (done: number) => void,
): Promise<{ ok: number; failed: { code?: string }[] }> {
  let next = 0;
  let ok = 0;
  const failed: { code?: string }[] = [];
  const lane = async () => {
    while (next < calls) {
      const i = next++;
      try {
        await call(i);
        ok++;
      } catch (error) {
        failed.push(error as { code?: string });
      }
      onProgress?.(ok + failed.length);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { ok, failed };
}

describeWithNats('a lattice when hosts die, freeze or leave', () => {
  let nats: string;
  let lattice: Lattice;
  const hosts: HostProcess[] = [];
  let name = 0;

  beforeAll(async () => {
    nats = (await startNats()).url;
  });

  afterEach(async () => {
    await lattice?.close();
    for (const host of hosts.splice(0)) {
      if (host.child.exitCode === null && host.child.signalCode === null) {
        process.kill(host.child.pid!, 'SIGCONT');
        process.kill(host.child.pid!, 'SIGKILL');
      }
      await host.exited;
    }
  });

  afterAll(() => stopAll());

  /** Three hosts in a fresh lattice serving the test guest, and a client. */
  async function threeHosts(ackTimeoutMs?: number): Promise<HostProcess[]> {
    const lattice_ = `f${name++}`;
    const started = await Promise.all(['a', 'b', 'c'].map((id) => startHost(nats, lattice_, id)));
    hosts.push(...started);
    lattice = await Lattice.connect({
      servers: nats,
      name: lattice_,
      ...(ackTimeoutMs ? { ackTimeoutMs } : {}),
    });
    await lattice.deploy('guest', readFileSync(WASM_TEST));
    return started;
  }

  it('loses no call with retry when one of three hosts is SIGKILLed under load', async () => {
    const [, b] = await threeHosts();
    const down: { id: string; reason: string }[] = [];
    lattice.on('host-down', (event) => down.push(event));
    let killed = false;
    const servedBy = new Map<string, number>();
    const result = await load(
      async (i) => {
        const { result: answer, info } = await lattice.callFunctionWithInfo(
          'guest',
          'echo',
          { data: { i } },
          { retry: 2 },
        );
        expect(answer).toEqual({ i });
        servedBy.set(info.host, (servedBy.get(info.host) ?? 0) + 1);
      },
      600,
      32,
      (done) => {
        if (done === 150 && !killed) {
          killed = true;
          process.kill(b!.child.pid!, 'SIGKILL');
        }
      },
    );
    expect(killed).toBe(true);
    expect(result.failed).toEqual([]);
    expect(result.ok).toBe(600);
    // b served its share before it died; the others took the rest.
    expect(servedBy.get('b')).toBeGreaterThan(0);
    expect(servedBy.get('b')!).toBeLessThan(300);
    expect(down.find((e) => e.id === 'b')?.reason).toMatch(/^(lost|silent)$/);
  });

  it('fails a running call fast with ERR_HOST_LOST when its host is killed and it has no retry', async () => {
    const started = await threeHosts();
    const calls = Array.from({ length: 6 }, () =>
      lattice
        .callFunctionWithInfo(
          'guest',
          'work',
          { data: { rounds: 4_000_000_000 } },
          { timeoutMs: 60_000 },
        )
        .then(
          () => ({ code: 'OK' }),
          (error: { code: string; details?: { host?: string } }) => error,
        ),
    );
    // Wait until the victim runs one of them, then kill it.
    const victim = await until('a host running a call', async () => {
      const statuses = await lattice.hosts();
      return statuses.find((h) => h.inFlight > 0);
    });
    const killedAt = performance.now();
    process.kill(started.find((h) => h.id === victim.id)!.child.pid!, 'SIGKILL');
    const lost = await Promise.race(
      calls.map((p) =>
        p.then((r) => (r.code === 'ERR_HOST_LOST' ? r : new Promise<never>(() => {}))),
      ),
    );
    expect(lost).toMatchObject({ code: 'ERR_HOST_LOST', details: { host: victim.id } });
    // Far below the call's 60 s timeout: the lost host is noticed by its pings.
    expect(performance.now() - killedAt).toBeLessThan(10_000);
    // The others are cut off by afterEach (they run on live hosts for a long time).
  });

  it('routes around a frozen (SIGSTOPped) host: calls with retry all succeed', async () => {
    const [a] = await threeHosts();
    process.kill(a!.child.pid!, 'SIGSTOP');
    let rerouted = 0;
    const result = await load(
      async (i) => {
        const { result: answer, info } = await lattice.callFunctionWithInfo(
          'guest',
          'echo',
          { data: { i } },
          { retry: 1 },
        );
        expect(answer).toEqual({ i });
        expect(info.host).not.toBe('a');
        if (info.attempts > 1) rerouted++;
      },
      200,
      16,
    );
    expect(result.failed).toEqual([]);
    // Some calls went to the frozen host first and were sent elsewhere unacknowledged.
    expect(rerouted).toBeGreaterThan(0);
  });

  it('drains on SIGTERM: stops taking calls, finishes its own, exits 0; no call fails', async () => {
    const [, , c] = await threeHosts(1000);
    const down: { id: string; reason: string }[] = [];
    lattice.on('host-down', (event) => down.push(event));
    let stopped = false;
    let servedByC = 0;
    const result = await load(
      async (i) => {
        // No retry: a call that a leaving host dropped would fail.
        const { result: answer, info } = await lattice.callFunctionWithInfo('guest', 'work', {
          data: { rounds: 200_000 + i },
        });
        expect(answer).toMatchObject({ rounds: 200_000 + i });
        if (info.host === 'c') servedByC++;
      },
      400,
      32,
      (done) => {
        if (done === 100 && !stopped) {
          stopped = true;
          process.kill(c!.child.pid!, 'SIGTERM');
        }
      },
    );
    expect(result.failed).toEqual([]);
    expect(servedByC).toBeGreaterThan(0);
    expect(await c!.exited).toBe(0);
    const left = c!.logs.find((l) => l.msg === 'left the lattice');
    expect(left).toBeDefined();
    await until('the client to see c leave', () => down.find((e) => e.id === 'c'));
    expect(down.find((e) => e.id === 'c')).toEqual({ id: 'c', reason: 'left' });
  });

  it('exits with code 4 and ERR_NATS_UNREACHABLE when NATS cannot be reached at start', async () => {
    const result = await runCli(
      ['serve', '--nats', 'nats://user:secret@127.0.0.1:1', '--port', '0'],
      {
        limitMs: 20_000,
      },
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/ERR_NATS_UNREACHABLE/);
    expect(result.stderr).not.toMatch(/secret/);
  });

  it('keeps local calls working when NATS is lost; /healthz says degraded; lattice calls fail typed', async () => {
    const own = await startNats();
    const host = await startHost(own.url, 'lost', 'solo');
    hosts.push(host);
    lattice = await Lattice.connect({ servers: own.url, name: 'lost' });
    await lattice.deploy('guest', readFileSync(WASM_TEST));
    await lattice.close();
    await own.kill();
    await until('the host to notice', async () => {
      const health = (await (await fetch(`${host.url}/healthz`)).json()) as { status: string };
      return health.status === 'degraded';
    });
    const local = await fetch(`${host.url}/functions/guest/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"local":true}',
    });
    expect(local.status).toBe(200);
    expect(await local.json()).toEqual({ local: true });
    const remote = await fetch(`${host.url}/functions/elsewhere/echo`, { method: 'POST' });
    expect(remote.status).toBe(503);
    expect(((await remote.json()) as { error: { code: string } }).error.code).toBe(
      'ERR_LATTICE_UNAVAILABLE',
    );
    // Still draining cleanly without NATS.
    process.kill(host.child.pid!, 'SIGTERM');
    expect(await host.exited).toBe(0);
  });
});
