import { readFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { Lattice } from '../dist/cluster/index.js';
import { WASM_TEST } from './helpers.js';
import { describeWithNats, startHost, startNatsCluster, stopAll, until } from './nats-harness.js';

describeWithNats('a lattice on a 3-node NATS cluster', () => {
  afterAll(() => stopAll());

  it('a host whose NATS node is killed reconnects to another node and calls resume', async () => {
    const nodes = await startNatsCluster();
    const [n1, n2, n3] = nodes.map((n) => n.url);
    // The client may use any node; the host knows only n1 (it learns the others from it).
    const lattice = await Lattice.connect({ servers: [n2!, n3!], name: 'ha', replicas: 3 });
    try {
      const host = await startHost(n1!, 'ha', 'ha1', ['--replicas', '3']);
      await lattice.deploy('guest', readFileSync(WASM_TEST));
      expect(await lattice.callFunction('guest', 'echo', { data: 1 })).toBe(1);
      const killedAt = performance.now();
      await nodes[0]!.kill();
      // Calls fail (typed) during the gap, then work again once the host is back.
      const failures = new Set<string>();
      await until(
        'calls to resume',
        async () => {
          try {
            return (await lattice.callFunction('guest', 'echo', { data: 2 }, { retry: 1 })) === 2;
          } catch (error) {
            failures.add((error as { code: string }).code);
            return false;
          }
        },
        30_000,
      );
      const gapMs = performance.now() - killedAt;
      console.log(
        `lattice on a NATS cluster: calls resumed ${gapMs.toFixed(0)} ms after the host's node was killed`,
      );
      for (const code of failures)
        expect(code).toMatch(/^ERR_(MODULE_NOT_FOUND|HOST_LOST|LATTICE_UNAVAILABLE)$/);
      const reconnected = await until('the host to log its reconnection', () =>
        host.logs.find((l) => l.msg === 'NATS connection back'),
      );
      expect(reconnected).toBeDefined();
      expect((await fetch(`${host.url}/healthz`).then((r) => r.json())) as object).toMatchObject({
        status: 'ok',
      });
    } finally {
      await lattice.close();
    }
  });
});
