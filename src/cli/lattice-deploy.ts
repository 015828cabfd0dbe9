import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Lattice } from '../cluster/lattice.js';
import type { HostDeployReport } from '../cluster/lattice-types.js';
import { InvalidArgumentError, WasmFileNotFoundError } from '../errors.js';
import { InputFileError } from '../server/gateway-errors.js';
import { parseSidecar } from '../server/sidecar.js';
import { latticeOptions, type LatticeFlags } from './lattice-flags.js';

/** `deploy --nats` flags. */
export interface LatticeDeployFlags extends LatticeFlags {
  name?: string;
  sidecar?: string;
  timeoutMs?: number;
}

/**
 * `wasmtube deploy <file.wasm> --nats <urls>`: stores the module (and its sidecar settings) in
 * the lattice and prints each host's progress; resolves once every live host serves the new
 * version, rejects with `ERR_DEPLOY_REJECTED` (each host's reason) if one refused it.
 */
export async function latticeDeploy(file: string, flags: LatticeDeployFlags): Promise<void> {
  const name = flags.name ?? basename(file, extname(file));
  const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new WasmFileNotFoundError(`Cannot read ${file}: ${error.message}`, {
      cause: error,
      details: { path: file },
    });
  });
  const sidecarPath = flags.sidecar ?? file.replace(/\.wasm$/i, '') + '.json';
  const sidecarText = await readFile(sidecarPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (flags.sidecar === undefined && error.code === 'ENOENT') return undefined;
    throw new InputFileError(`Cannot read ${sidecarPath}: ${error.message}`, {
      cause: error,
      details: { path: sidecarPath },
    });
  });
  const settings = sidecarText === undefined ? {} : parseSidecar(sidecarText, sidecarPath);
  const lattice = await Lattice.connect(latticeOptions(flags));
  try {
    const result = await lattice.deploy(name, bytes, {
      settings,
      ...(flags.timeoutMs !== undefined ? { timeoutMs: flags.timeoutMs } : {}),
      onReport: (report) => printReport(report),
    });
    process.stdout.write(
      `${name} version ${result.version} (sha256 ${result.hash.slice(0, 12)}) serving on ` +
        `${result.hosts.length} host(s)\n`,
    );
  } finally {
    await lattice.close();
  }
}

/** `wasmtube undeploy <name> --nats <urls>`: removes the module from every host. */
export async function latticeUndeploy(name: string, flags: LatticeDeployFlags): Promise<void> {
  const lattice = await Lattice.connect(latticeOptions(flags));
  try {
    const result = await lattice.undeploy(name, { onReport: (report) => printReport(report) });
    if (result === undefined) {
      throw new InvalidArgumentError(
        `No module "${name}" is deployed in lattice "${lattice.name}".`,
      );
    }
    process.stdout.write(`${name} undeployed from ${result.hosts.length} host(s)\n`);
  } finally {
    await lattice.close();
  }
}

function printReport(report: HostDeployReport): void {
  const what = report.error
    ? `${report.outcome}: ${report.error.code}: ${report.error.message}`
    : report.outcome;
  process.stdout.write(`  ${report.host}: ${report.module} v${report.version} ${what}\n`);
}
