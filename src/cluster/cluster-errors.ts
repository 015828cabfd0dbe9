import { defineError } from '../errors.js';

/**
 * Errors of the lattice (`wasmtube/cluster`, `serve --nats`), with stable codes like the
 * library's own (see docs/errors.md and docs/cluster.md). Match on `error.code`.
 */
const clusterCodes: string[] = [];

function defineClusterError<C extends string>(code: C, name: string) {
  clusterCodes.push(code);
  return defineError(code, name);
}

/** No NATS server of the list could be reached (or it refused the credentials) at start. */
export const NatsUnreachableError = defineClusterError(
  'ERR_NATS_UNREACHABLE',
  'NatsUnreachableError',
);
/**
 * The connection to NATS is lost (reconnecting) or closed: lattice calls, deploys and jobs fail
 * at once with this instead of waiting. Calls on this host's own threads keep working.
 */
export const LatticeUnavailableError = defineClusterError(
  'ERR_LATTICE_UNAVAILABLE',
  'LatticeUnavailableError',
);
/**
 * The host running a call stopped answering (killed, frozen, cut off) after it accepted the
 * call, and the call had no `retry` left: it may or may not have run.
 */
export const HostLostError = defineClusterError('ERR_HOST_LOST', 'HostLostError');
/** A deploy was refused by at least one host; `details.hosts` has each host's reason. */
export const DeployRejectedError = defineClusterError('ERR_DEPLOY_REJECTED', 'DeployRejectedError');
/** Not every live host reported serving a deployed version within the deploy's `timeoutMs`. */
export const DeployTimeoutError = defineClusterError('ERR_DEPLOY_TIMEOUT', 'DeployTimeoutError');
/** No job has that id (never enqueued, or expired from the job bucket). */
export const JobNotFoundError = defineClusterError('ERR_JOB_NOT_FOUND', 'JobNotFoundError');

/** Every code defined by the lattice. */
export function clusterErrorCodes(): string[] {
  return [...clusterCodes];
}
