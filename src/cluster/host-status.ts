/** One module as a host serves it, in its heartbeat. */
export interface HostModule {
  name: string;
  /** Lattice version and hash served (0 and undefined while deploying or after a failure). */
  version: number;
  hash: string | undefined;
  state: 'deploying' | 'serving' | 'failed';
  /** Threads alive, calls queued and running on this host. */
  threads: number;
  queued: number;
  running: number;
  /** The last deploy failure on this host, if the module is not serving the lattice version. */
  error?: { code: string; message: string };
}

/** What a host says about itself in each heartbeat and to `hosts()`. */
export interface HostStatus {
  id: string;
  /** `serving`; `draining` once it stopped taking calls to leave. */
  state: 'serving' | 'draining';
  /** Its HTTP gateway, if it listens. */
  url: string | undefined;
  pid: number;
  hostname: string;
  startedAt: string;
  /** When this status was sent (the host's clock). */
  heartbeatAt: string;
  /** Lattice calls this host is running now. */
  inFlight: number;
  /** Lattice calls served since it started. */
  served: number;
  /** 1-minute load average of its machine. */
  loadAverage: number;
  modules: HostModule[];
}
