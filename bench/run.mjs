// Runs the benchmark scenarios and writes bench/RESULTS.md, bench/results.json and
// bench/results.png. `npm run bench` builds first, then runs every group.
//
//   node bench/run.mjs                         every group, then write the report
//   node bench/run.mjs --only worker           one group (or a comma list); prints, writes nothing
//   node bench/run.mjs --only worker --filter latency   only the cases whose id contains "latency"
//   node bench/run.mjs --quick                 fewer calls and shorter runs (a smoke test)
//   node bench/run.mjs --only worker --scale 10  10× the calls (e.g. under node --cpu-prof)
//   node bench/run.mjs --only worker --json out.json    also save the rows
//   node bench/run.mjs --no-wait               do not wait for a quieter machine between groups
//
// Before each group it waits (up to 20 s, 60 s in all) while other processes use more than 10 %
// of the CPUs, and it records how much they used during each group.
//
// Groups: floor, threads, piscina, worker, extism, images, reload, memory, isolation, gateway,
// http, lattice, components.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  collectGarbage,
  cpuSnapshot,
  otherCpuShare,
  machine,
  printHeader,
  printRow,
  row,
  sourceState,
  versions,
} from './lib.mjs';

export const GROUPS = [
  'floor',
  'threads',
  'piscina',
  'worker',
  'extism',
  'images',
  'reload',
  'memory',
  'isolation',
  'gateway',
  'http',
  'lattice',
  'components',
  'scaling',
];

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    filter: { type: 'string' },
    quick: { type: 'boolean', default: false },
    scale: { type: 'string' },
    json: { type: 'string' },
    write: { type: 'boolean' },
    'no-wait': { type: 'boolean', default: false },
  },
});

const groups = args.only ? args.only.split(',').map((g) => g.trim()) : GROUPS;
for (const group of groups) {
  if (!GROUPS.includes(group)) {
    console.error(`Unknown group "${group}". Groups: ${GROUPS.join(', ')}.`);
    process.exit(2);
  }
}
// A full run writes the report; a partial or quick one only if asked (--write).
const write = args.write ?? (!args.only && !args.filter && !args.quick && !args.scale);

const startedAt = new Date();
const meta = {
  date: startedAt.toISOString(),
  command:
    process.env.npm_lifecycle_event === 'bench'
      ? 'npm run bench'
      : `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  versions: versions(),
  source: sourceState(),
  machine: machine(),
  quick: args.quick,
};
console.log(
  `wasmtube bench — node ${meta.versions.node}, wasmtube ${meta.versions.wasmtube}, ` +
    `piscina ${meta.versions.piscina}, @extism/extism ${meta.versions['@extism/extism']}\n` +
    `${meta.machine.cpu} × ${meta.machine.cores}, ${meta.machine.memoryGiB} GiB, ` +
    `load average ${meta.machine.loadavg.join(' ')}\n`,
);
printHeader();

const rows = [];
const durations = {};
const contention = {};
meta.groupTitles = {};
let waitBudgetMs = args['no-wait'] ? 0 : 60_000;
for (const group of groups) {
  const module = await import(`./scenarios/${group}.mjs`);
  meta.groupTitles[group] = module.title;
  waitBudgetMs -= await waitForQuiet(group, Math.min(20_000, waitBudgetMs));
  collectGarbage();
  const started = performance.now();
  const cpuBefore = cpuSnapshot();
  const ctx = createContext(group);
  try {
    await module.default(ctx);
  } catch (error) {
    console.error(`[${group}] failed:`, error);
    process.exitCode = 1;
  }
  rows.push(...ctx.rows);
  durations[group] = (performance.now() - started) / 1000;
  const share = otherCpuShare(cpuBefore, cpuSnapshot());
  if (share !== undefined) {
    contention[group] = +share.toFixed(3);
    if (share > 0.05 && group !== 'memory') {
      console.log(
        `  (other processes used ${(share * 100).toFixed(0)}% of the CPUs during ${group}: ` +
          `its numbers are disturbed)`,
      );
    }
  }
}
meta.durationS = (Date.now() - startedAt.getTime()) / 1000;
meta.groupDurationsS = durations;
meta.otherCpuShare = contention;
meta.loadavgAfter = machine().loadavg;
console.log(
  `\n${rows.length} rows in ${meta.durationS.toFixed(0)} s (${Object.entries(durations)
    .map(([g, s]) => `${g} ${s.toFixed(0)} s`)
    .join(', ')})`,
);

if (args.json) writeFileSync(args.json, JSON.stringify({ meta, rows }, null, 2));
if (write) {
  const { writeReport } = await import('./report.mjs');
  const written = await writeReport({ meta, rows });
  console.log(`wrote ${written.join(', ')}`);
}

/**
 * Waits (up to `maxMs`) until other processes leave the CPUs alone (< 10 % of them over a 1 s
 * look), so a test suite running beside the benchmark disturbs fewer groups. Returns the ms spent.
 */
async function waitForQuiet(group, maxMs) {
  if (maxMs <= 0) return 0;
  const started = performance.now();
  for (;;) {
    const before = cpuSnapshot();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const share = otherCpuShare(before, cpuSnapshot());
    const waited = performance.now() - started;
    if (share === undefined || share < 0.1 || waited >= maxMs) {
      if (waited > 1500) {
        console.log(
          `  (waited ${(waited / 1000).toFixed(0)} s for a quieter machine before ${group})`,
        );
      }
      return waited;
    }
  }
}

/** What a scenario gets: its options, a filter, and `add` to print and collect a row. */
function createContext(group) {
  const quick = args.quick;
  const scale = args.scale !== undefined ? Number(args.scale) : quick ? 0.25 : 1;
  const rows = [];
  return {
    group,
    quick,
    rows,
    /** Scales a count or duration: by 1/4 in --quick mode, or by --scale. */
    n: (x) => Math.max(1, Math.round(x * scale)),
    /** True when the case `id` of this group passes --filter. */
    want: (id) => !args.filter || `${group}.${id}`.includes(args.filter),
    add(id, label, result, unit, note) {
      const r = row(group, id, label, result, unit, note);
      rows.push(r);
      printRow(r);
      return r;
    },
    /** One call in flight: 7 × 400 calls (64 KiB: 7 × 100) after a warm-up. */
    latencyOptions(size, { calls } = {}) {
      const big = size >= 65536;
      return {
        calls: this.n(calls ?? (big ? 100 : 400)),
        warmup: this.n(big ? 50 : 1000),
        reps: quick ? 3 : 7,
      };
    },
    /** One call every ~2 ms (1 ms idle, then the call): 5 × 150 calls. */
    sparseOptions() {
      return { calls: this.n(150), warmup: this.n(100), reps: quick ? 3 : 5, gapMs: 1 };
    },
    /** `inFlight` calls outstanding: 7 × 600 ms after 300 ms of warm-up. */
    throughputOptions(inFlight) {
      return { inFlight, durationMs: this.n(600), warmupMs: this.n(300), reps: quick ? 3 : 7 };
    },
  };
}
