import { Command } from 'commander';
import { Lattice } from '../cluster/lattice.js';
import type { HostStatus } from '../cluster/host-status.js';
import { addLatticeFlags, latticeOptions, type LatticeFlags } from './lattice-flags.js';

/** `wasmtube hosts --nats <urls>`: the lattice's hosts, their modules, versions, threads, load. */
export function hostsCommand(): Command {
  const command = new Command('hosts')
    .description(
      "List a lattice's hosts: their modules and versions, threads, load, last heartbeat.",
    )
    .option('--json', 'print the statuses as JSON')
    .action(async (flags: LatticeFlags & { json?: boolean }) => {
      const lattice = await Lattice.connect(latticeOptions(flags));
      try {
        const hosts = await lattice.hosts();
        process.stdout.write(
          flags.json ? `${JSON.stringify(hosts, null, 2)}\n` : table(hosts, lattice.name),
        );
      } finally {
        await lattice.close();
      }
    });
  return addLatticeFlags(command);
}

function table(hosts: HostStatus[], lattice: string): string {
  if (hosts.length === 0) return `no host in lattice "${lattice}"\n`;
  const lines = [`${hosts.length} host(s) in lattice "${lattice}"`];
  for (const h of hosts) {
    lines.push(
      `${h.id}  ${h.state}  ${h.url ?? '-'}  pid ${h.pid}  in flight ${h.inFlight}  served ${h.served}  ` +
        `load ${h.loadAverage.toFixed(2)}  heartbeat ${h.heartbeatAt}`,
    );
    for (const m of h.modules) {
      lines.push(
        `  ${m.name} v${m.version} ${m.state} ${m.hash?.slice(0, 12) ?? ''} threads ${m.threads} ` +
          `running ${m.running} queued ${m.queued}${m.error ? `  ${m.error.code}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
