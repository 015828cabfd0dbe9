import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Lattice } from '../dist/cluster/index.js';
import { runCli } from './cli-helpers.js';
import { fixture, gradient, WASM_TEST } from './helpers.js';
import {
  describeWithNats,
  startHost,
  startNats,
  stopAll,
  until,
  type HostProcess,
} from './nats-harness.js';

const ECHO = new URL('../examples/echo.wasm', import.meta.url).pathname;
const FILTERS = new URL('../examples/filters.wasm', import.meta.url).pathname;

describeWithNats('a lattice of hosts: calls, deploys, routing', () => {
  let nats: string;
  let h1: HostProcess;
  let h2: HostProcess;
  let lattice: Lattice;

  beforeAll(async () => {
    nats = (await startNats()).url;
    // h2 serves only `guest`: calls for echo reaching its gateway go to h1.
    [h1, h2] = await Promise.all([
      startHost(nats, 'calls', 'h1'),
      startHost(nats, 'calls', 'h2', ['--modules', 'guest,filters']),
    ]);
    lattice = await Lattice.connect({ servers: nats, name: 'calls' });
  });

  afterAll(async () => {
    await lattice?.close();
    await stopAll();
  });

  it('wasmtube deploy --nats reaches every host and exits 0 once they serve it', async () => {
    const echo = await runCli(['deploy', ECHO, '--nats', nats, '--lattice', 'calls']);
    expect(echo.stderr).toBe('');
    expect(echo.code).toBe(0);
    expect(echo.stdout.toString()).toMatch(/h1: echo v1 serving/);
    expect(echo.stdout.toString()).toMatch(/h2: echo v1 skipped/);
    const guest = await lattice.deploy('guest', readFileSync(WASM_TEST));
    expect(guest.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ['h1', 'serving'],
      ['h2', 'serving'],
    ]);
    const hosts = await lattice.hosts();
    expect(hosts.map((h) => h.id)).toEqual(['h1', 'h2']);
    // Same version, same hash, on every host.
    const served = hosts.flatMap((h) => h.modules.filter((m) => m.name === 'guest'));
    expect(new Set(served.map((m) => `${m.version}:${m.hash}`)).size).toBe(1);
    expect(served[0]!.version).toBe(guest.version);
  });

  it('spreads calls over the hosts, with the results and typed errors of Worker.callFunction', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const { result, info } = await lattice.callFunctionWithInfo('guest', 'echo', { data: { i } });
      expect(result).toEqual({ i });
      seen.add(info.host);
    }
    expect([...seen].sort()).toEqual(['h1', 'h2']);
    const bytes = await lattice.callFunction('guest', 'echo', { bytes: Buffer.from('"abc"') });
    expect(Buffer.isBuffer(bytes) && bytes.toString()).toBe('"abc"');
    await expect(lattice.callFunction('guest', 'trap', { data: null })).rejects.toMatchObject({
      code: 'ERR_GUEST_TRAP',
    });
    await expect(lattice.callFunction('guest', 'nope', { data: null })).rejects.toMatchObject({
      code: 'ERR_EXPORT_NOT_FOUND',
    });
  });

  it('an aborted call rejects with ERR_ABORTED at once, its cause the signal reason', async () => {
    const controller = new AbortController();
    const call = lattice.callFunction(
      'guest',
      'work',
      { data: { rounds: 1_500_000_000 } },
      {
        signal: controller.signal,
      },
    );
    setTimeout(() => controller.abort(new Error('enough')), 100);
    await expect(call).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: { message: 'enough' } });
  });

  it('answers ERR_MODULE_NOT_FOUND at once for a module no host serves', async () => {
    const started = performance.now();
    await expect(lattice.callFunction('ghost', 'echo', { data: 1 })).rejects.toMatchObject({
      code: 'ERR_MODULE_NOT_FOUND',
    });
    // Far below any ack or call timeout: no responders is immediate.
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('routes a gateway call for a module its host lacks to a host that has it', async () => {
    const response = await fetch(`${h2.url}/functions/echo/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ via: 'h2' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-wasmtube-host')).toBe('h1');
    expect(response.headers.get('x-wasmtube-version')).toBe('1');
    expect(await response.json()).toEqual({ via: 'h2' });
    const local = await fetch(`${h1.url}/functions/echo/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(local.headers.get('x-wasmtube-host')).toBe('h1');
    const missing = await fetch(`${h2.url}/functions/ghost/echo`, { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      'ERR_MODULE_NOT_FOUND',
    );
    const health = await fetch(`${h2.url}/healthz`);
    expect(await health.json()).toMatchObject({ status: 'ok', host: 'h2', nats: 'connected' });
  });

  it('moves a 6 MB image both ways through the object store (max_payload is 1 MiB)', async () => {
    await lattice.deploy('filters', readFileSync(FILTERS));
    const width = 1920;
    const height = 1080;
    const image = gradient(width, height); // 6.2 MB of raw RGB
    const gray = await lattice.callFunction(
      'filters',
      'grayscale',
      { image, width, height },
      { returns: 'rgb' },
    );
    expect(gray.width).toBe(width);
    expect(gray.pixels.byteLength).toBe(width * height * 3);
    const p = (100 * width + 50) * 3;
    expect(gray.pixels[p]).toBe(gray.pixels[p + 1]);
    expect(gray.pixels[p + 1]).toBe(gray.pixels[p + 2]);
  });

  it('a later deploy reaches every host with a higher version; a late joiner loads it before it listens', async () => {
    const v2 = await lattice.deploy('guest', readFileSync(fixture('wasm_test')), {
      settings: { threads: 1 },
    });
    expect(v2.version).toBeGreaterThan(1);
    expect(v2.hosts.every((h) => h.outcome === 'serving')).toBe(true);
    const h3 = await startHost(nats, 'calls', 'h3');
    // Listening means loaded: its status already serves the current versions.
    const status = (await lattice.hosts()).find((h) => h.id === 'h3')!;
    expect(status.modules.find((m) => m.name === 'guest')).toMatchObject({
      version: v2.version,
      hash: v2.hash,
      state: 'serving',
    });
    const answer = await fetch(`${h3.url}/functions/guest/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[1]',
    });
    expect(answer.headers.get('x-wasmtube-version')).toBe(String(v2.version));
    expect(answer.headers.get('x-wasmtube-module-hash')).toBe(v2.hash);
  });

  it('a deploy a host rejects exits non-zero with its reason; the previous version keeps serving', async () => {
    const before = (await lattice.hosts())
      .find((h) => h.id === 'h1')!
      .modules.find((m) => m.name === 'guest')!;
    // echo.wasm lacks functions the running guest exports: every host refuses it.
    const refused = await runCli([
      'deploy',
      ECHO,
      '--name',
      'guest',
      '--nats',
      nats,
      '--lattice',
      'calls',
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/ERR_DEPLOY_REJECTED/);
    expect(refused.stdout.toString()).toMatch(/h1: guest v\d+ rejected: ERR_RELOAD_REJECTED/);
    const after = (await lattice.hosts())
      .find((h) => h.id === 'h1')!
      .modules.find((m) => m.name === 'guest')!;
    expect(after).toMatchObject({ version: before.version, hash: before.hash, state: 'serving' });
    expect(await lattice.callFunction('guest', 'echo', { data: 3 })).toBe(3);
  });

  it('two deploys at once get two versions; every host ends on the higher one, never going back', async () => {
    const base = readFileSync(WASM_TEST);
    const builds = [1, 2].map((n) =>
      Buffer.concat([base, Buffer.from([0, 4, 3, 0x76, 0x76, 0x30 + n])]),
    );
    const [a, b] = await Promise.all(builds.map((bytes) => lattice.deploy('guest', bytes)));
    expect(a!.version).not.toBe(b!.version);
    const last = a!.version > b!.version ? a! : b!;
    await until('every host on the last version', async () =>
      (await lattice.hosts()).every((h) => {
        const m = h.modules.find((x) => x.name === 'guest');
        return m?.version === last.version && m.hash === last.hash;
      }),
    );
  });

  it('wasmtube call --nats and hosts --nats; undeploy removes a module everywhere', async () => {
    const call = await runCli([
      'call',
      'guest',
      'echo',
      '--data',
      '{"x":2}',
      '--nats',
      nats,
      '--lattice',
      'calls',
    ]);
    expect(call.code).toBe(0);
    expect(JSON.parse(call.stdout.toString())).toEqual({ x: 2 });
    const listed = await runCli(['hosts', '--nats', nats, '--lattice', 'calls', '--json']);
    expect((JSON.parse(listed.stdout.toString()) as { id: string }[]).map((h) => h.id)).toContain(
      'h1',
    );
    const gone = await runCli(['undeploy', 'echo', '--nats', nats, '--lattice', 'calls']);
    expect(gone.code).toBe(0);
    await until('echo to be gone', async () => {
      const error = await lattice
        .callFunction('echo', 'echo', { data: 1 })
        .catch((e: { code: string }) => e);
      return (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    });
  });
});
