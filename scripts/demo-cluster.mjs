// npm run demo:cluster — three NATS nodes and three wasmtube hosts on this machine, a deploy, a
// stream of calls, one host killed (SIGKILL) and restarted, and what happened to the calls.
// Needs nats-server (apt-get install nats-server). Everything it starts is stopped by PID.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Lattice } from '../dist/cluster/index.js';

const root = new URL('..', import.meta.url).pathname;
const CLI = join(root, 'dist/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'wasmtube-demo-'));
const children = new Set();

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function startNode(i, clientPort, routes) {
  const dir = join(work, `n${i}`);
  const args = [
    '-a',
    '127.0.0.1',
    '-p',
    String(clientPort),
    '-js',
    '-sd',
    dir,
    '-n',
    `n${i}`,
    '--cluster_name',
    'demo',
    '--cluster',
    `nats://127.0.0.1:${routes[i]}`,
    '--routes',
    routes
      .filter((_, j) => j !== i)
      .map((p) => `nats://127.0.0.1:${p}`)
      .join(','),
    '-l',
    join(work, `n${i}.log`),
  ];
  track(spawn('nats-server', args, { stdio: 'ignore' }));
  return `nats://127.0.0.1:${clientPort}`;
}

function startHost(id, nats) {
  const child = track(
    spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--nats',
        nats,
        '--lattice',
        'demo',
        '--host-id',
        id,
        '--replicas',
        '3',
        '--port',
        '0',
        '--threads',
        '2',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  );
  return child;
}

async function main() {
  const routes = await Promise.all([freePort(), freePort(), freePort()]);
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const urls = await Promise.all([0, 1, 2].map((i) => startNode(i, ports[i], routes)));
  console.log(`NATS cluster: ${urls.join(', ')}`);
  // Wait for the JetStream leader election.
  const nc = await connect({ servers: urls, waitOnFirstConnect: true });
  for (let i = 0; ; i++) {
    try {
      await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
      break;
    } catch (error) {
      if (i > 60) throw error;
      await sleep(250);
    }
  }
  await nc.close();

  const lattice = await Lattice.connect({ servers: urls, name: 'demo', replicas: 3 });
  lattice.on('host-up', (h) => console.log(`  + host ${h.id} up`));
  lattice.on('host-down', (e) => console.log(`  - host ${e.id} down (${e.reason})`));
  const hosts = {
    h1: startHost('h1', urls[0]),
    h2: startHost('h2', urls[1]),
    h3: startHost('h3', urls[2]),
  };
  while ((await lattice.hosts()).length < 3) await sleep(200);

  const deployed = await lattice.deploy('echo', readFileSync(join(root, 'examples/echo.wasm')));
  console.log(
    `deployed echo v${deployed.version} to ${deployed.hosts.map((h) => h.host).join(', ')}`,
  );

  const stats = { ok: 0, failed: 0, byHost: {}, retried: 0, codes: {} };
  let running = true;
  const lane = async () => {
    for (let i = 0; running; i++) {
      try {
        const { info } = await lattice.callFunctionWithInfo(
          'echo',
          'echo',
          { data: { i } },
          { retry: 2 },
        );
        stats.ok++;
        stats.byHost[info.host] = (stats.byHost[info.host] ?? 0) + 1;
        if (info.attempts > 1) stats.retried++;
      } catch (error) {
        stats.failed++;
        stats.codes[error.code] = (stats.codes[error.code] ?? 0) + 1;
      }
    }
  };
  const lanes = Array.from({ length: 16 }, lane);
  const report = (label) =>
    console.log(
      `${label.padEnd(28)} ok ${stats.ok}  failed ${stats.failed}  re-routed ${stats.retried}  by host ${JSON.stringify(stats.byHost)}`,
    );
  for (let s = 1; s <= 2; s++) {
    await sleep(1000);
    report(`t=${s}s`);
  }
  console.log('SIGKILL h2 (under load)');
  hosts.h2.kill('SIGKILL');
  for (let s = 3; s <= 4; s++) {
    await sleep(1000);
    report(`t=${s}s`);
  }
  console.log('restarting h2');
  hosts.h2 = startHost('h2', urls[1]);
  for (let s = 5; s <= 7; s++) {
    await sleep(1000);
    report(`t=${s}s`);
  }
  running = false;
  await Promise.all(lanes);
  report('done');
  console.log(
    stats.failed === 0 ? 'no call was lost.' : `failures by code: ${JSON.stringify(stats.codes)}`,
  );
  await lattice.close();
}

try {
  await main();
} finally {
  for (const child of [...children].reverse()) child.kill('SIGTERM');
  await sleep(1500);
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
