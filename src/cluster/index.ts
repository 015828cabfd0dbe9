/**
 * `wasmtube/cluster`: a lattice of wasmtube hosts on NATS. Call a module any host serves,
 * deploy once to every host, lose no call when a host dies, and queue durable jobs.
 * See docs/cluster.md.
 * @packageDocumentation
 */
export { Lattice } from './lattice.js';
export type {
  DeployOptions,
  DeployResult,
  EnqueueOptions,
  HostDeployReport,
  JobState,
  LatticeCallFunction,
  LatticeCallInfo,
  LatticeCallOptions,
  LatticeEvents,
  LatticeOptions,
} from './lattice-types.js';
export type { HostModule, HostStatus } from './host-status.js';
export type { NatsConnectOptions } from './nats-connection.js';
export type { DeployRecord } from './module-store.js';
export * from './cluster-errors.js';
