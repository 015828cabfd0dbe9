import { readFile } from 'node:fs/promises';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { InvalidArgumentError } from '../errors.js';
import { NatsUnreachableError } from './cluster-errors.js';

/**
 * How to reach NATS. Credentials are passed to the client only: they are never logged, and the
 * errors below name the servers, not the secrets.
 */
export interface NatsConnectOptions {
  /** Server URLs, e.g. `['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222']`. Default: `nats://127.0.0.1:4222`. */
  servers?: string | string[];
  /** User and password (the server's `authorization { user, password }`). */
  user?: string;
  pass?: string;
  /** A token (the server's `authorization { token }`). */
  token?: string;
  /** Path of a `.creds` file (JWT + nkey seed, as made by `nsc`). */
  credsFile?: string;
  /** TLS: CA, client certificate and key files; any of them turns TLS on. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** The client name shown by the server's monitoring. */
  name?: string;
  /** How long to try the first connection, in ms. Default: 5000. */
  connectTimeoutMs?: number;
}

/**
 * Connects to NATS, reconnecting forever afterwards (a lattice member rides out a server
 * restart or a node of a cluster dying).
 * @throws `ERR_NATS_UNREACHABLE` when no server answers or the credentials are refused
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  const servers = options.servers ?? 'nats://127.0.0.1:4222';
  const list = Array.isArray(servers) ? servers : servers.split(',').map((s) => s.trim());
  if (list.length === 0 || list.some((s) => s === '')) {
    throw new InvalidArgumentError('servers must list at least one NATS URL (nats://host:port).');
  }
  if ((options.user === undefined) !== (options.pass === undefined)) {
    throw new InvalidArgumentError('Pass both a NATS user and password, or neither.');
  }
  const authenticator =
    options.credsFile === undefined
      ? undefined
      : credsAuthenticator(await readCreds(options.credsFile));
  const tls = options.tls && Object.values(options.tls).some((v) => v !== undefined);
  try {
    return await connect({
      servers: list,
      ...(options.user !== undefined ? { user: options.user, pass: options.pass } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(authenticator ? { authenticator } : {}),
      ...(tls ? { tls: { ...options.tls } } : {}),
      ...(options.name !== undefined ? { name: options.name } : {}),
      timeout: options.connectTimeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      // Requests (liveness pings) do not capture a stack each.
      noAsyncTraces: true,
      // A dead server is noticed within a few seconds rather than minutes.
      pingInterval: 2000,
      maxPingOut: 2,
    });
  } catch (error) {
    // URLs may carry credentials (nats://user:secret@host): shown without them.
    const shown = list.map((url) => url.replace(/\/\/[^@/]*@/, '//'));
    throw new NatsUnreachableError(
      `Cannot connect to NATS at ${shown.join(', ')}: ${(error as Error).message}. Check that ` +
        'nats-server runs there (with -js for JetStream) and the credentials.',
      { cause: error, details: { servers: shown } },
    );
  }
}

async function readCreds(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InvalidArgumentError(`Cannot read the NATS credentials file ${path}.`, {
      cause: error,
      details: { path },
    });
  }
}
