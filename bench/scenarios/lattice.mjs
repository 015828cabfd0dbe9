// 9. The lattice on NATS (needs nats-server; skipped with a line when it is missing).
// One nats-server and three `wasmtube serve --nats` host processes on this machine; this process
// is the caller (a Lattice client).
// - Latency, one call in flight: a lattice call of echo (64 B JSON) served by a host process,
//   against a bare NATS request/reply to the same host process (its liveness-ping subject, which
//   its event loop answers with an empty message), and against a local Worker call (1 thread).
//   The ratios are of medians measured in the same run.
// - Throughput with 64 calls in flight through one host (a module only h1 serves) and through
//   three hosts (a module all serve), measured in turns.
// - Deploy: from lattice.deploy() to every host reporting it serves the new version (10 deploys
//   alternating two builds).
// - Host loss: 64 calls in flight with retry: 2, one of three hosts SIGKILLed; the longest call
//   around the kill (the gap a caller sees) and the failed calls (must be 0).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Lattice } from '../../dist/cluster/index.js';
import { Worker } from '../../dist/index.js';
import { FIXTURE, jsonPayload, latency, sleep, throughputs } from '../lib.mjs';

export const title = 'Lattice on NATS: remote call vs bare NATS vs local, hosts, deploy, host loss';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

export default async function lattice(ctx) {
  const have = await new Promise((resolve) => {
    const probe = spawn('nats-server', ['--version'], { stdio: 'ignore' });
    probe.on('error', () => resolve(false));
    probe.on('exit', (code) => resolve(code === 0));
  });
  if (!have) {
    console.log('  lattice: skipped, nats-server is not installed (apt-get install nats-server)');
    return ctx.rows;
  }
  const dir = mkdtempSync(join(tmpdir(), 'wasmtube-bench-nats-'));
  const children = [];
  try {
    const nats = await startNats(dir, children);
    const hosts = {};
    for (const [id, extra] of [
      ['h1', []],
      ['h2', ['--modules', 'guest']],
      ['h3', ['--modules', 'guest']],
    ]) {
      hosts[id] = await startHost(nats, id, extra, children);
    }
    const client = await Lattice.connect({ servers: nats, name: 'bench' });
    const bare = await connect({ servers: nats });
    const worker = await Worker.start({ wasmFile: FIXTURE, threads: 1 });
    try {
      const bytes = readFileSync(FIXTURE);
      await client.deploy('guest', bytes);
      await client.deploy('solo', bytes);
      const data = jsonPayload(64);
      if (ctx.want('latency')) await latencies(ctx, client, bare, worker, data);
      if (ctx.want('throughput')) {
        const [one, three] = await throughputs(
          [
            () => client.callFunction('solo', 'echo', { data }),
            () => client.callFunction('guest', 'echo', { data }),
          ],
          ctx.throughputOptions(64),
        );
        ctx.add('throughput.one-host', 'lattice echo 64 B, 64 in flight, one host', one, 'calls/s');
        ctx.add(
          'throughput.three-hosts',
          'lattice echo 64 B, 64 in flight, three hosts',
          three,
          'calls/s',
        );
      }
      if (ctx.want('deploy')) await deployTimes(ctx, client, bytes);
      if (ctx.want('host-loss')) await hostLoss(ctx, client, hosts.h3, data);
    } finally {
      await worker.stop();
      await bare.close();
      await client.close();
    }
  } finally {
    for (const child of children.reverse()) if (child.exitCode === null) child.kill('SIGKILL');
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
  return ctx.rows;
}

async function latencies(ctx, client, bare, worker, data) {
  const options = ctx.latencyOptions(64);
  const remote = await latency(() => client.callFunction('guest', 'echo', { data }), options);
  const ping = await latency(
    () => bare.request('wasmtube.bench.host.h2.ping', undefined, { timeout: 5000 }),
    options,
  );
  const local = await latency(() => worker.callFunction('echo', { data }), options);
  ctx.add('latency.lattice', 'lattice call, echo 64 B, another process', remote, 'µs');
  ctx.add('latency.bare-nats', 'bare NATS request/reply to the same process', ping, 'µs');
  ctx.add('latency.local', 'local Worker call, echo 64 B', local, 'µs');
  ctx.add(
    'latency.ratio-bare',
    'lattice call ÷ bare NATS request/reply (goal ≤ 1.3)',
    { value: remote.p50 / ping.p50 },
    'x',
  );
  ctx.add(
    'latency.ratio-local',
    'lattice call ÷ local Worker call',
    { value: remote.p50 / local.p50 },
    'x',
  );
}

async function deployTimes(ctx, client, bytes) {
  const other = Buffer.concat([bytes, Buffer.from([0, 4, 3, 0x62, 0x65, 0x6e])]); // a custom section
  const times = [];
  for (let i = 0; i < ctx.n(10); i++) {
    const started = performance.now();
    await client.deploy('guest', i % 2 === 0 ? other : bytes);
    times.push((performance.now() - started) * 1000);
  }
  times.sort((a, b) => a - b);
  ctx.add(
    'deploy',
    'deploy → all 3 hosts serving the new version',
    {
      value: times[Math.floor(times.length / 2)] / 1000,
      min: times[0] / 1000,
      max: times.at(-1) / 1000,
    },
    'ms',
  );
}

async function hostLoss(ctx, client, victim, data) {
  let running = true;
  let failed = 0;
  const calls = [];
  let killedAt = 0;
  const lane = async () => {
    while (running) {
      const started = performance.now();
      try {
        await client.callFunction('guest', 'echo', { data }, { retry: 2 });
      } catch {
        failed++;
      }
      calls.push({ started, ms: performance.now() - started });
    }
  };
  const lanes = Array.from({ length: 64 }, lane);
  await sleep(500);
  killedAt = performance.now();
  victim.kill('SIGKILL');
  await sleep(1500);
  running = false;
  await Promise.all(lanes);
  const around = calls.filter((c) => c.started >= killedAt - 100 && c.started <= killedAt + 500);
  const gap = Math.max(...around.map((c) => c.ms));
  ctx.add(
    'host-loss',
    'host SIGKILLed under load (64 in flight, retry 2): longest call',
    { value: gap, failed },
    'ms',
    `${failed} failed`,
  );
}

async function startNats(dir, children) {
  const args = [
    '-a',
    '127.0.0.1',
    '-p',
    '-1',
    '-js',
    '-sd',
    dir,
    '--ports_file_dir',
    dir,
    '-l',
    join(dir, 'nats.log'),
  ];
  const child = spawn('nats-server', args, { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 400; i++) {
    const file = readdirSync(dir).find((f) => f.endsWith('.ports'));
    if (file) return JSON.parse(readFileSync(join(dir, file), 'utf8')).nats[0];
    await sleep(25);
  }
  throw new Error('nats-server did not start');
}

function startHost(nats, id, extra, children) {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--nats',
      nats,
      '--lattice',
      'bench',
      '--host-id',
      id,
      '--port',
      '0',
      '--threads',
      '1',
      ...extra,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      if (buffered.includes('listening')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`host ${id} exited with ${code}`)));
  });
}
