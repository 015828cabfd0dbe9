import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe } from 'vitest';

/** Whether nats-server can run here; under CI=true its absence fails the suite instead. */
export const HAVE_NATS = spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * `describe` for suites that need nats-server: skipped with one line when it is missing,
 * except under `CI=true`, where the suite runs (and fails).
 */
export function describeWithNats(name: string, body: () => void): void {
  if (!HAVE_NATS && process.env.CI !== 'true') {
    console.warn(`${name}: skipped, nats-server is not installed (apt-get install nats-server)`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

/** A nats-server process started by a test. */
export interface NatsProcess {
  url: string;
  child: ChildProcess;
  /** Kills it by PID (SIGKILL unless told) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const started = new Set<NatsProcess>();
const folders: string[] = [];

/** Kills every server this file started and removes their folders (call in afterAll). */
export async function stopAllNats(): Promise<void> {
  await Promise.all([...started].map((server) => server.kill()));
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts `nats-server -js` on a free loopback port, with its own storage folder; resolves once
 * its ports file says where it listens. `extra` adds arguments (a cluster's routes).
 */
export async function startNats(extra: string[] = [], port = -1): Promise<NatsProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmtube-nats-'));
  folders.push(dir);
  const args = [
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-js',
    '-sd',
    dir,
    '--ports_file_dir',
    dir,
    '-l',
    join(dir, 'nats.log'),
    ...extra,
  ];
  // No inherited stdio: a server holding the test's pipes open hangs the runner.
  const child = spawn('nats-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server: NatsProcess = {
    url: '',
    child,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
      await exited;
      started.delete(server);
    },
  };
  started.add(server);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const file = readdirSync(dir).find((f) => f.endsWith('.ports'));
    if (file) {
      const ports = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats: string[] };
      server.url = ports.nats[0]!;
      return server;
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = readFileSync(join(dir, 'nats.log'), 'utf8');
      throw new Error(`nats-server did not start: ${log.slice(-500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A free TCP port on loopback (for cluster route ports, which must be known up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A 3-node NATS cluster on loopback, each node with JetStream; resolves once JetStream answers. */
export async function startNatsCluster(): Promise<NatsProcess[]> {
  const routes = await Promise.all([freePort(), freePort(), freePort()]);
  const clientPorts = await Promise.all([freePort(), freePort(), freePort()]);
  const nodes = await Promise.all(
    routes.map((port, i) =>
      startNats(
        [
          '-n',
          `n${i + 1}`,
          '--cluster_name',
          'wt',
          '--cluster',
          `nats://127.0.0.1:${port}`,
          '--routes',
          routes
            .filter((_, j) => j !== i)
            .map((p) => `nats://127.0.0.1:${p}`)
            .join(','),
        ],
        clientPorts[i],
      ),
    ),
  );
  // The nodes elect a JetStream leader first (until then its API times out), and the leader
  // learns its peers one by one: a stream with 3 replicas is refused ("no suitable peers for
  // placement") until all three are known. Ready means such a stream can be created.
  const nc = await connect({ servers: nodes.map((n) => n.url) });
  try {
    await until(
      'the cluster to place a stream on its 3 nodes',
      async () => {
        try {
          const jsm = await jetstreamManager(nc, { timeout: 1000 });
          await jsm.streams.add({
            name: 'harness_probe',
            subjects: ['harness.probe'],
            num_replicas: 3,
          });
          await jsm.streams.delete('harness_probe');
          return true;
        } catch {
          return false;
        }
      },
      30_000,
    );
  } finally {
    await nc.close();
  }
  return nodes;
}

/** Waits until `check` returns a truthy value, polling; fails with `what` after `limitMs`. */
export async function until<T>(
  what: string,
  check: () => T | Promise<T>,
  limitMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A `wasmtube serve --nats` process started by a test. */
export interface HostProcess {
  id: string;
  url: string;
  child: ChildProcess;
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves with the exit code when it ends (null: killed by a signal). */
  exited: Promise<number | null>;
}

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const hosts = new Set<HostProcess>();

/** Starts a lattice host and resolves once it listens (it has loaded the lattice's modules). */
export function startHost(
  nats: string,
  lattice: string,
  id: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<HostProcess> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      ...args,
      '--nats',
      nats,
      '--lattice',
      lattice,
      '--host-id',
      id,
      '--port',
      '0',
      '--threads',
      '1',
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const guard = setTimeout(
      () => reject(new Error(`host ${id} did not start: ${stderr}`)),
      30_000,
    );
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const log = JSON.parse(line) as Record<string, unknown>;
        logs.push(log);
        if (typeof log.url === 'string' && log.msg?.toString().includes('listening')) {
          clearTimeout(guard);
          const host: HostProcess = { id, url: log.url, child, logs, stderr: () => stderr, exited };
          hosts.add(host);
          void exited.then(() => hosts.delete(host));
          resolve(host);
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(guard);
      reject(new Error(`host ${id} exited with ${code} before listening: ${stderr}`));
    });
  });
}

/** Kills every host this file started (by PID), then every NATS server. */
export async function stopAll(): Promise<void> {
  for (const host of hosts) {
    if (host.child.exitCode === null && host.child.signalCode === null) {
      process.kill(host.child.pid!, 'SIGCONT'); // a frozen one must run to die cleanly
      process.kill(host.child.pid!, 'SIGKILL');
    }
  }
  await Promise.all([...hosts].map((h) => h.exited));
  await stopAllNats();
}
