import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { AbortError } from '../errors.js';
import { DeployRejectedError, DeployTimeoutError } from './cluster-errors.js';
import type { DeployOptions, DeployResult, HostDeployReport } from './lattice-types.js';
import type { DeployRecord } from './module-store.js';
import type { LatticeNames } from './subjects.js';

/**
 * Collects the hosts' reports of one deploy: created (listening) before the deploy is stored,
 * so no report is missed; {@link wait} resolves once every host that was live has reported.
 */
export class DeployWaiter {
  readonly #sub: Subscription;
  readonly #live: ReadonlySet<string>;
  readonly #options: Omit<DeployOptions, 'settings'>;
  readonly #reports: HostDeployReport[] = [];
  #check: (() => void) | undefined;

  constructor(
    nc: NatsConnection,
    names: LatticeNames,
    module: string,
    live: string[],
    options: Omit<DeployOptions, 'settings'>,
    onReport: (report: HostDeployReport) => void,
  ) {
    this.#live = new Set(live);
    this.#options = options;
    this.#sub = nc.subscribe(names.deployReports, {
      callback: (error, msg) => {
        if (error) return;
        const report = msg.json<HostDeployReport>();
        if (report.module !== module) return;
        this.#reports.push(report);
        onReport(report);
        this.#check?.();
      },
    });
  }

  /** Resolves once every live host reported on `record`'s version (or a later one). */
  wait(record: DeployRecord): Promise<DeployResult> {
    const { timeoutMs = 30_000, signal } = this.#options;
    return new Promise<DeployResult>((resolve, reject) => {
      const mine = () => {
        const byHost = new Map<string, HostDeployReport>();
        for (const r of this.#reports) {
          if (r.module === record.name && r.version >= record.version) byHost.set(r.host, r);
        }
        return byHost;
      };
      const done = (error?: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#check = undefined;
        if (error) reject(error);
        else {
          const hosts = [...mine().values()].sort((a, b) => (a.host < b.host ? -1 : 1));
          resolve({ module: record.name, version: record.version, hash: record.hash, hosts });
        }
      };
      const onAbort = () =>
        done(
          new AbortError('The deploy was aborted while waiting for hosts.', {
            cause: signal!.reason,
          }),
        );
      const timer = setTimeout(() => {
        const reported = mine();
        const missing = [...this.#live].filter((h) => !reported.has(h));
        done(
          new DeployTimeoutError(
            `Version ${record.version} of "${record.name}" is stored, but ${missing.join(', ')} ` +
              `did not report serving it within ${timeoutMs} ms (a host may be down or still ` +
              'loading; `wasmtube hosts` shows what each serves).',
            { details: { module: record.name, version: record.version, missing } },
          ),
        );
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#check = () => {
        const reported = mine();
        if ([...this.#live].some((h) => !reported.has(h))) return;
        const rejected = [...reported.values()].filter((r) => r.outcome === 'rejected');
        if (rejected.length === 0) return done();
        done(
          new DeployRejectedError(
            `Version ${record.version} of "${record.name}" was rejected by ` +
              rejected.map((r) => `${r.host} (${r.error?.code}: ${r.error?.message})`).join(', ') +
              '; those hosts keep serving the previous version.',
            { details: { module: record.name, version: record.version, hosts: rejected } },
          ),
        );
      };
      this.#check();
    });
  }

  close(): void {
    this.#sub.unsubscribe();
  }
}
