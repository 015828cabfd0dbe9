import { Command, Option } from 'commander';
import type { LatticeOptions } from '../cluster/lattice-types.js';
import { positiveInteger } from './options.js';

/** The flags every lattice command shares (connection, credentials, TLS, lattice name). */
export interface LatticeFlags {
  nats?: string;
  lattice: string;
  natsUser?: string;
  natsPassword?: string;
  natsToken?: string;
  natsCreds?: string;
  natsCa?: string;
  natsCert?: string;
  natsKey?: string;
  ackTimeoutMs?: number;
  replicas?: number;
}

/**
 * Adds the lattice flags to `command`. Secrets are best passed in the environment (`NATS_*`):
 * command lines are visible to other users. Nothing here is ever logged.
 */
export function addLatticeFlags(command: Command): Command {
  return command
    .addOption(
      new Option('--nats <urls>', 'join the lattice on these NATS servers (comma-separated)').env(
        'NATS_URL',
      ),
    )
    .addOption(
      new Option('--lattice <name>', 'lattice name (prefixes every subject and bucket)')
        .env('WASMTUBE_LATTICE')
        .default('default'),
    )
    .addOption(new Option('--nats-user <user>', 'NATS user').env('NATS_USER'))
    .addOption(new Option('--nats-password <password>', 'NATS password').env('NATS_PASSWORD'))
    .addOption(new Option('--nats-token <token>', 'NATS token').env('NATS_TOKEN'))
    .addOption(new Option('--nats-creds <file>', 'NATS .creds file').env('NATS_CREDS'))
    .addOption(new Option('--nats-ca <file>', 'TLS: CA certificate').env('NATS_CA'))
    .addOption(new Option('--nats-cert <file>', 'TLS: client certificate').env('NATS_CERT'))
    .addOption(new Option('--nats-key <file>', 'TLS: client key').env('NATS_KEY'))
    .addOption(
      new Option(
        '--replicas <n>',
        "JetStream replicas of the lattice's buckets (3 on a 3-node cluster)",
      )
        .argParser(positiveInteger)
        .env('WASMTUBE_REPLICAS'),
    )
    .addOption(
      new Option(
        '--ack-timeout-ms <ms>',
        'a host that does not acknowledge a call this fast is lost',
      )
        .argParser(positiveInteger)
        .env('WASMTUBE_ACK_TIMEOUT_MS'),
    );
}

/** The {@link LatticeOptions} the flags describe. */
export function latticeOptions(flags: LatticeFlags): LatticeOptions {
  const tls =
    flags.natsCa || flags.natsCert || flags.natsKey
      ? { caFile: flags.natsCa, certFile: flags.natsCert, keyFile: flags.natsKey }
      : undefined;
  return {
    servers: flags.nats,
    name: flags.lattice,
    ...(flags.natsUser !== undefined ? { user: flags.natsUser, pass: flags.natsPassword } : {}),
    ...(flags.natsToken ? { token: flags.natsToken } : {}),
    ...(flags.natsCreds ? { credsFile: flags.natsCreds } : {}),
    ...(tls ? { tls } : {}),
    ...(flags.ackTimeoutMs !== undefined ? { ackTimeoutMs: flags.ackTimeoutMs } : {}),
    ...(flags.replicas !== undefined ? { replicas: flags.replicas } : {}),
  };
}
