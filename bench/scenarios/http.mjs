// 10. The gateway against the HTTP server it is built on (issue 18), side by side in one run:
// - bare: a fastify route that answers the 64 B JSON body itself (in this process);
// - bridge: a fastify route calling the in-process bridge (Wasmtube.fromFile, examples/echo.wasm,
//   no threads), in this process: what running the guest costs without any thread hop;
// - gateway: `wasmtube serve examples` in a child process with its defaults (isolation 'call',
//   info logging to its stdout, here /dev/null), calling the echo guest;
// - gateway1: the same with `--threads 1`: on 2 cores the main thread, one worker thread and the
//   load generator already take both; the row shows what the default thread count costs here.
// The load: autocannon 9 with 32 connections, run as a library in its own child process (in this
// process it would share the main thread with the bare and bridge servers). The servers are
// measured in turns (bare, bridge, gateway, gateway1, bare, …) so a disturbance hits all alike.
// Rows: requests/s (median of the turns, min–max), and latency p50/p99 in ms (median of the
// turns' autocannon percentiles).
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { Wasmtube } from '../../dist/index.js';
import { jsonPayload, median, sleep } from '../lib.mjs';

export const title = 'HTTP: the gateway against a bare fastify route (autocannon, 32 connections)';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOAD = fileURLToPath(new URL('../http-load.mjs', import.meta.url));
const CONNECTIONS = 32;

export default async function http(ctx) {
  const body = JSON.stringify(jsonPayload(64));
  const bare = Fastify();
  bare.post('/echo', async (request) => request.body);
  const bridgeModule = await Wasmtube.fromFile(`${ROOT}/examples/echo.wasm`);
  const bridge = Fastify();
  bridge.post('/echo', async (request) =>
    bridgeModule.callFunction('echo', { data: request.body }),
  );
  const gateway = await startServe();
  const gateway1 = await startServe(['--threads', '1']).catch(async (error) => {
    await gateway.stop();
    throw error;
  });
  try {
    const targets = [
      {
        id: 'bare',
        label: 'bare fastify route, echo in-process',
        url: `${await bare.listen({ port: 0, host: '127.0.0.1' })}/echo`,
      },
      {
        id: 'bridge',
        label: 'fastify route → in-process bridge (no threads)',
        url: `${await bridge.listen({ port: 0, host: '127.0.0.1' })}/echo`,
      },
      {
        id: 'gateway',
        label: 'wasmtube serve examples (defaults), echo guest',
        url: `${gateway.url}/functions/echo/echo`,
      },
      {
        id: 'gateway1',
        label: 'wasmtube serve examples --threads 1, echo guest',
        url: `${gateway1.url}/functions/echo/echo`,
      },
    ];
    const duration = ctx.quick ? 2 : 5;
    const reps = ctx.quick ? 2 : 3;
    const runs = new Map(targets.map((t) => [t.id, []]));
    for (const target of targets) await load(target.url, body, 1); // warm-up
    for (let r = 0; r < reps; r++) {
      for (const target of targets)
        runs.get(target.id).push(await load(target.url, body, duration));
    }
    for (const target of targets) {
      const results = runs.get(target.id);
      const failed = results.reduce((n, x) => n + x.non2xx + x.errors + x.timeouts, 0);
      const rates = results.map((x) => x.requestsPerSecond);
      if (ctx.want(`${target.id}.rps`)) {
        ctx.add(
          `${target.id}.rps`,
          `${target.label}: requests/s`,
          { value: median(rates), min: Math.min(...rates), max: Math.max(...rates), failed },
          'calls/s',
        );
      }
      if (ctx.want(`${target.id}.latency`)) {
        const p50 = median(results.map((x) => x.p50));
        const p99 = median(results.map((x) => x.p99));
        ctx.add(`${target.id}.latency`, `${target.label}: latency`, { value: p50, p50, p99 }, 'ms');
      }
    }
  } finally {
    await bare.close();
    await bridge.close();
    await gateway.stop();
    await gateway1.stop();
  }
  return ctx.rows;
}

async function load(url, body, duration) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [LOAD, JSON.stringify({ url, connections: CONNECTIONS, duration, body })],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout);
}

/** `wasmtube serve examples` (with `flags`) on a free port, ready once the echo guest answers. */
async function startServe(flags = []) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      `${ROOT}/dist/cli/main.js`,
      'serve',
      'examples',
      '--port',
      String(port),
      '--no-watch',
      ...flags,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = performance.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wasmtube serve exited (${child.exitCode})`);
    try {
      const response = await fetch(`${url}/functions/echo/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      await response.arrayBuffer();
      if (response.ok) return { url, stop };
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      await stop();
      throw new Error('wasmtube serve did not answer within 20 s');
    }
    await sleep(100);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
