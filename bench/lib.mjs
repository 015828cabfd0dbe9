// Shared helpers for the benchmarks: warm-up, repetitions, medians, percentiles, throughput with
// calls in flight, payloads, versions and the machine. Imports only Node built-ins, so bench
// threads can use it too.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

/** The Rust test guest: `echo`, `work`, `invert`, `image_size`, `endless_loop`, ... */
export const FIXTURE = fileURLToPath(new URL('../test/fixtures/wasm_test.wasm', import.meta.url));
/** Payload sizes of the JSON echo scenarios: the exact length of `JSON.stringify(data)`. */
export const SIZES = [64, 1024, 65536];
export const IMAGE = { width: 1920, height: 1080 };

// ---- measuring ----

/**
 * Runs `fn` (async) `iterations` times after `warmup` runs, `reps` times over; returns the median
 * over the repetitions of the mean µs per call (the first benchmark's helper, kept as it was).
 */
export async function measure(fn, options) {
  return (await batch(fn, options)).value;
}

/** Like {@link measure} but returns `{ value, min, max }` (µs per call; median, min, max of reps). */
export async function batch(fn, { iterations = 200, warmup = 50, reps = 5 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const perCall = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    perCall.push(((performance.now() - start) * 1000) / iterations);
  }
  return { value: median(perCall), min: Math.min(...perCall), max: Math.max(...perCall) };
}

/** {@link batch} for synchronous functions: no promise per call, so sub-µs costs stay visible. */
export function batchSync(fn, { iterations = 10_000, warmup = 2_000, reps = 5 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const perCall = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    perCall.push(((performance.now() - start) * 1000) / iterations);
  }
  return { value: median(perCall), min: Math.min(...perCall), max: Math.max(...perCall) };
}

/**
 * One call in flight at a time, each timed on its own: `reps` × `calls` samples after `warmup`
 * calls; with `gapMs`, an idle pause before each (untimed). Returns µs: `p50`/`p99` over all samples, and `min`/`max` of the per-repetition medians
 * (how stable the median is).
 */
export async function latency(fn, { calls = 400, warmup = 200, reps = 5, gapMs = 0 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const all = [];
  const repMedians = [];
  for (let r = 0; r < reps; r++) {
    const samples = new Float64Array(calls);
    for (let i = 0; i < calls; i++) {
      if (gapMs > 0) await sleep(gapMs); // the call arrives at a thread that went to sleep
      const start = performance.now();
      await fn();
      samples[i] = (performance.now() - start) * 1000;
    }
    repMedians.push(median(samples));
    all.push(...samples);
  }
  return {
    value: percentile(all, 50),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    min: Math.min(...repMedians),
    max: Math.max(...repMedians),
    samples: all.length,
  };
}

/**
 * Keeps `inFlight` calls outstanding (each completion starts the next) for `durationMs`, `reps`
 * times after a warm-up; returns calls/s: the median over repetitions, and their min and max.
 * A call that rejects is counted in `failed` (and not as done); `onError` sees it.
 */
export async function throughput(fn, options = {}) {
  return (await throughputs([fn], options))[0];
}

/**
 * {@link throughput} for several configurations compared with each other, measured in turns
 * (A, B, A, B, …): whatever else the machine does then disturbs them alike, so their ratio holds
 * better than two separate runs'.
 */
export async function throughputs(
  fns,
  { inFlight = 64, durationMs = 600, warmupMs = 300, reps = 5, onError } = {},
) {
  const failed = fns.map(() => 0);
  const runFor = async (index, ms) => {
    const fn = fns[index];
    let done = 0;
    const end = performance.now() + ms;
    const lane = async () => {
      while (performance.now() < end) {
        try {
          await fn();
          done++;
        } catch (error) {
          failed[index]++;
          onError?.(error);
        }
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: inFlight }, lane));
    return (done * 1000) / (performance.now() - start);
  };
  for (let i = 0; i < fns.length; i++) await runFor(i, warmupMs);
  failed.fill(0);
  const rates = fns.map(() => []);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < fns.length; i++) rates[i].push(await runFor(i, durationMs));
  }
  return rates.map((values, i) => ({
    value: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    failed: failed[i],
  }));
}

export function median(values) {
  const sorted = Array.from(values).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile. */
export function percentile(values, p) {
  const sorted = Array.from(values).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Samples (any unit) → `{ value: p50, p50, p99, samples }`. */
export function summarize(samples) {
  return {
    value: percentile(samples, 50),
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    samples: samples.length,
  };
}

let gcFunction;
/** Full GC between scenarios, without needing node --expose-gc. */
export function collectGarbage() {
  if (!gcFunction) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc');
  }
  gcFunction();
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check()` is true, polling every `everyMs`; throws after `timeoutMs`. */
export async function waitFor(check, what, { timeoutMs = 10_000, everyMs = 0 } = {}) {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await (everyMs > 0 ? sleep(everyMs) : new Promise((resolve) => setImmediate(resolve)));
  }
}

// ---- payloads ----

/** A JSON value whose `JSON.stringify` is exactly `bytes` long; the Rust echo returns it unchanged. */
export function jsonPayload(bytes) {
  const data = { s: 'a'.repeat(bytes - 8) }; // {"s":"…"} is 8 bytes of punctuation
  if (JSON.stringify(data).length !== bytes) throw new Error(`payload is not ${bytes} bytes`);
  return data;
}

/** A 1080p RGB test image (or another size). */
export function rgbImage({ width, height } = IMAGE) {
  const pixels = new Uint8Array(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = i & 0xff;
  return pixels;
}

export const sizeLabel = (bytes) => (bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`);

// ---- context: versions, machine ----

const require = createRequire(import.meta.url);
const packageVersion = (name) => {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    const path = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url));
    return JSON.parse(readFileSync(path, 'utf8')).version;
  }
};

export function versions() {
  const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return {
    node: process.version,
    wasmtube: own.version,
    piscina: packageVersion('piscina'),
    '@extism/extism': packageVersion('@extism/extism'),
    v8: process.versions.v8,
  };
}

/** The commit and how many files under src/ differ from it (read-only git commands). */
export function sourceState() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const git = (...args) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git('rev-parse', '--short', 'HEAD').trim();
    const dirty = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
    return { commit, dirtySrcFiles: dirty };
  } catch {
    return { commit: 'unknown', dirtySrcFiles: 0 };
  }
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

// ---- contention: what other processes used of the CPUs meanwhile ----

/** A snapshot for {@link otherCpuShare}: the machine's busy CPU time, and this process's. */
export function cpuSnapshot() {
  let busyMs;
  try {
    // cpu  user nice system idle iowait irq softirq steal ... (in USER_HZ ticks, 100 per second)
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    busyMs = (user + nice + system + irq + softirq + (steal ?? 0)) * 10;
  } catch {
    busyMs = undefined; // not Linux
  }
  const own = process.cpuUsage(); // every thread of this process
  return { at: performance.now(), busyMs, ownMs: (own.user + own.system) / 1000 };
}

/**
 * The share of the machine's CPUs (0–1) that other processes (and this one's children) used
 * between two snapshots: a run where it is high competed with something else.
 */
export function otherCpuShare(before, after) {
  if (before.busyMs === undefined) return undefined;
  const wallMs = after.at - before.at;
  const others = after.busyMs - before.busyMs - (after.ownMs - before.ownMs);
  return Math.max(0, others / (wallMs * os.cpus().length));
}

// ---- rows and printing ----

/**
 * A result row. `value` is the headline number in `unit` ('µs' per call, 'ms', 'calls/s', 'MiB',
 * 'x'); `p50`/`p99` for latency rows; `min`/`max` of the repetitions' medians.
 */
export function row(group, id, label, result, unit, note) {
  const { value, p50, p99, min, max, samples, failed } = result;
  return {
    group,
    id: `${group}.${id}`,
    label,
    value,
    unit,
    ...(p50 !== undefined && { p50 }),
    ...(p99 !== undefined && { p99 }),
    ...(min !== undefined && { min, max }),
    ...(samples !== undefined && { samples }),
    ...(failed !== undefined && { failed }),
    ...(note && { note }),
  };
}

export function formatNumber(value, unit) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  if (unit === 'calls/s') return Math.round(value).toLocaleString('en-US');
  if (unit === 'x') return value.toFixed(2);
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : 3;
  return value.toFixed(digits);
}

/** `12.3 µs`, `45,678 calls/s`. */
export const formatValue = (value, unit) =>
  unit === 'x' ? `${formatNumber(value, unit)}×` : `${formatNumber(value, unit)} ${unit}`;

/** How much the repetitions disagreed: ±half the min–max range as a % of the value. */
export function spread(r) {
  if (r.min === undefined || !r.value) return '';
  return `±${((50 * (r.max - r.min)) / Math.abs(r.value)).toFixed(0)}%`;
}

const COLUMNS = [
  ['scenario', 66],
  ['median', 17],
  ['p99', 12],
  ['reps', 6],
];

export function printHeader(out = process.stdout) {
  out.write(
    `${COLUMNS.map(([name, width]) => name.padEnd(width)).join(' ')} note\n` +
      `${COLUMNS.map(([, width]) => '-'.repeat(width)).join(' ')} ----\n`,
  );
}

export function printRow(r, out = process.stdout) {
  const cells = [
    `[${r.group}] ${r.label}`.slice(0, 66).padEnd(66),
    formatValue(r.value, r.unit).padStart(17),
    (r.p99 !== undefined ? formatNumber(r.p99, r.unit) : '').padStart(12),
    spread(r).padStart(6),
  ];
  out.write(`${cells.join(' ')} ${r.note ?? ''}\n`);
}
