import type { ModuleLive } from '../server/event-hub.js';

/** The columns `wasmtube ls` and `wasmtube top` show, one row per module. */
export function moduleTable(modules: readonly ModuleLive[]): string {
  const header = [
    'MODULE',
    'STATE',
    'VERSION',
    'HASH',
    'THREADS',
    'QUEUE',
    'CALLS/S',
    'P50 MS',
    'P99 MS',
    'CALLS',
    'FAILED',
    'RESTARTS',
  ];
  const rows = modules.map((m) => [
    m.name,
    m.state,
    `v${m.version}`,
    (m.hash ?? '-').slice(0, 12),
    m.threads ? `${m.threads.alive}/${m.threads.ready}/${m.threads.spare}` : '-',
    String(m.queued),
    String(m.callsPerSec),
    m.p50Ms.toFixed(2),
    m.p99Ms.toFixed(2),
    String(m.calls),
    String(m.failures),
    String(m.restarts),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const failures = modules
    .filter((m) => Object.keys(m.failuresByCode).length > 0)
    .map(
      (m) =>
        `  ${m.name}: ${Object.entries(m.failuresByCode)
          .map(([code, n]) => `${code} ${n}`)
          .join(', ')}`,
    );
  return [
    line(header),
    ...rows.map(line),
    ...(modules.length === 0 ? ['(no module deployed)'] : []),
    ...(failures.length ? ['', 'failures by code:', ...failures] : []),
    '',
    'THREADS: alive/ready/spare',
  ].join('\n');
}
