import { expect, it } from 'vitest';
import { Lattice } from '../dist/cluster/index.js';
import { runCli } from './cli-helpers.js';
import { describeWithNats, startHost, startNats, stopAll } from './nats-harness.js';
import { afterAll } from 'vitest';

it('Lattice.connect refuses bad options before connecting (ERR_INVALID_ARGUMENT)', async () => {
  for (const options of [
    { name: 'has.dot' },
    { name: '' },
    { ackTimeoutMs: 0 },
    { heartbeatMs: 1.5 },
    { servers: '' },
    { user: 'only-a-user' },
  ]) {
    await expect(Lattice.connect(options)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  }
});

describeWithNats('NATS credentials', () => {
  afterAll(() => stopAll());

  it('pass from NATS_* variables to the host and are never printed, even when refused', async () => {
    const secret = 's3cret-pw-93';
    const nats = await startNats(['--user', 'wt', '--pass', secret]);
    const host = await startHost(nats.url, 'creds', 'c1', ['--log-level', 'debug'], {
      NATS_USER: 'wt',
      NATS_PASSWORD: secret,
    });
    expect(JSON.stringify(host.logs)).not.toContain(secret);
    const lattice = await Lattice.connect({
      servers: nats.url,
      name: 'creds',
      user: 'wt',
      pass: secret,
    });
    expect((await lattice.hosts()).map((h) => h.id)).toEqual(['c1']);
    await lattice.close();
    process.kill(host.child.pid!, 'SIGTERM');
    expect(await host.exited).toBe(0);
    expect(JSON.stringify(host.logs) + host.stderr()).not.toContain(secret);

    const refused = await runCli(['hosts', '--nats', nats.url, '--nats-user', 'wt'], {
      env: { NATS_PASSWORD: 'wrong-pw-17' },
    });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/ERR_NATS_UNREACHABLE/);
    expect(refused.stderr).not.toContain('wrong-pw-17');
  });

  it('take a token from NATS_TOKEN', async () => {
    const token = 'tok-55-secret';
    const nats = await startNats(['--auth', token]);
    const host = await startHost(nats.url, 'tok', 't1', [], { NATS_TOKEN: token });
    const lattice = await Lattice.connect({ servers: nats.url, name: 'tok', token });
    expect((await lattice.hosts()).map((h) => h.id)).toEqual(['t1']);
    await lattice.close();
    expect(JSON.stringify(host.logs)).not.toContain(token);
    const refused = await runCli(['hosts', '--nats', nats.url]);
    expect(refused.code).toBe(4);
  });
});
