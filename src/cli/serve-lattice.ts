import { mkdtemp, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GatewayMember, leaveLattice } from '../cluster/gateway-member.js';
import { Lattice } from '../cluster/lattice.js';
import { LatticeHost } from '../cluster/lattice-host.js';
import { connectNats } from '../cluster/nats-connection.js';
import { SourceFolder } from '../cluster/source-folder.js';
import { LATTICE_NAME, LatticeNames } from '../cluster/subjects.js';
import { InvalidArgumentError } from '../errors.js';
import { createGateway } from '../server/gateway.js';
import { DeployFolderError } from '../server/gateway-errors.js';
import type { GatewayOptions, ListenOptions } from '../server/gateway-options.js';
import { latticeOptions, type LatticeFlags } from './lattice-flags.js';

/** `serve --nats` flags beyond the connection's. */
export interface HostFlags extends LatticeFlags {
  hostId?: string;
  /** Comma-separated module names this host serves (default: all of the lattice). */
  modules?: string;
}

/**
 * `wasmtube serve [dir] --nats <urls>`: a gateway that is a host of the lattice. It serves the
 * lattice's modules from a private folder (the store is the source of truth); `dir`, if given,
 * is a deploy source for the whole lattice. Resolves once a signal has made it leave.
 */
export async function runLatticeServe(
  dir: string | undefined,
  flags: HostFlags,
  gatewayOptions: GatewayOptions & ListenOptions,
  untilSignal: (
    leave: (timeoutMs: number) => Promise<void>,
    log: { info: (o: object, m: string) => void },
  ) => Promise<void>,
): Promise<void> {
  const hostId = flags.hostId ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
  if (!LATTICE_NAME.test(hostId)) {
    throw new InvalidArgumentError(
      `--host-id must match ${LATTICE_NAME}, got ${JSON.stringify(hostId)}.`,
    );
  }
  const source = dir === undefined ? undefined : resolve(dir);
  if (source !== undefined && !(await stat(source).catch(() => undefined))?.isDirectory()) {
    throw new DeployFolderError(
      `The deploy folder ${source} does not exist or is not a directory.`,
      {
        details: { dir: source },
      },
    );
  }
  const options = latticeOptions(flags);
  const placed =
    flags.modules === undefined
      ? undefined
      : new Set(flags.modules.split(',').map((m) => m.trim()));
  // Unreachable NATS fails here, before anything else starts (exit code 4).
  const nc = await connectNats({ ...options, name: `wasmtube host ${hostId}` });
  const folder = await mkdtemp(join(tmpdir(), 'wasmtube-host-'));
  const { host: listenHost, port, ...rest } = gatewayOptions;
  const gateway = await createGateway({ ...rest, dir: folder, watch: false });
  const log = gateway.app.log;
  try {
    const lattice = await Lattice.open(nc, options);
    const host = await LatticeHost.join({
      nc,
      names: new LatticeNames(lattice.name),
      hostId,
      modules: gateway.modules,
      folder,
      log,
      heartbeatMs: 1000,
      replicas: options.replicas ?? 1,
      url: () => gateway.url,
      jobCall: (module, fn, input, callOptions) =>
        lattice.callFunction(module, fn, input, callOptions),
      ...(placed ? { places: (module: string) => placed.has(module) } : {}),
    });
    gateway.useLattice(new GatewayMember(lattice, host));
    lattice.on('connection', (connected) =>
      connected
        ? log.info('NATS connection back')
        : log.warn('NATS connection lost: lattice calls fail until it is back'),
    );
    const folderSource = source === undefined ? undefined : new SourceFolder(source, lattice, log);
    await gateway.listen({ host: listenHost, port });
    await folderSource?.start();
    await untilSignal(async (timeoutMs) => {
      await folderSource?.close();
      await leaveLattice({ host, gateway, lattice, nc, timeoutMs });
    }, log);
  } catch (error) {
    await gateway.close({ timeoutMs: 0 });
    if (!nc.isClosed()) await nc.close();
    throw error;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
