// The chaos soak: thousands of calls on a small Worker pool while some of them crash their thread,
// spin past their timeout, blow up memory or trap, and while good and broken versions of the guest
// are deployed over its file. It checks that a fault fails only the call that caused it: every
// healthy call (a JSON echo of a unique payload) succeeds with its own payload, whatever happens
// around it.
//
// Usage: npm run soak [-- --calls 30000 --seed 1 --concurrency 32 --threads 2 --calm]
// (node --expose-gc scripts/chaos-soak.mjs after npm run build). test/chaos-soak.test.ts runs the
// same soak at 3,000 calls. Exit code 1 when a check fails or RSS grew more than 10% after warm-up.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { Worker } from '../dist/index.js';
import { seededRandom } from './seeded-random.mjs';

const fixtures = new URL('../test/fixtures/', import.meta.url);
const fixture = (name) => readFileSync(new URL(`${name}.wasm`, fixtures));
const HOST_MODULE = fileURLToPath(new URL('hosts/chaos-host.mjs', fixtures));
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** The functions of test/fixtures/wat/chaos.wat a call may run. */
export const KINDS = /** @type {const} */ (['echo', 'abort', 'trap', 'spin', 'bomb', 'crash']);

/**
 * The codes each faulty kind may fail with (an `echo` must never fail). An `abort` is an echo
 * whose AbortSignal fires 0–2 ms after the call: it may also succeed, with its own payload.
 * A `crash` ends its own thread; on a saturated machine that exit can come after `timeoutMs`,
 * and then the watchdog ends the thread first: still its own call, failed with a typed code.
 */
export const EXPECTED_CODES = {
  abort: ['ERR_ABORTED'],
  trap: ['ERR_GUEST_TRAP'],
  spin: ['ERR_CALL_TIMEOUT'],
  bomb: ['ERR_MEMORY_LIMIT', 'ERR_GUEST_TRAP'],
  crash: ['ERR_WORKER_EXITED', 'ERR_CALL_TIMEOUT'],
};

/** Share of calls of each faulty kind; the rest are echoes. */
export const DEFAULT_MIX = { crash: 0.01, spin: 0.01, bomb: 0.01, abort: 0.01, trap: 0.05 };

/** Only traps beside the echoes, and no deploys: what the pool already handled before the fix. */
export const CALM = { mix: { trap: 0.05 }, deployEveryMs: 0 };

/** What {@link violations} returns for a clean run. */
export const NO_VIOLATIONS = {
  unsettled: [],
  healthyFailed: 0,
  healthyFailedByCode: {},
  firstHealthyFailures: [],
  wrongResults: 0,
  firstWrongResults: [],
  faultyCallsWithUnexpectedOutcome: [],
  errorsWithoutCode: 0,
  unhandledRejections: 0,
  threadsRestored: true,
  versionsWentBack: 0,
  callsOnBrokenVersions: 0,
  brokenDeploysServed: 0,
  brokenDeploysRejected: true,
  goodDeploysServed: true,
  goodVersionsRolledBack: 0,
};

const JUNK = [
  ...'abcdefghijklmnopqrstuvwxyz0123456789 "\\/{}[]:,',
  'é',
  'ß',
  '漢',
  '🙂',
  '\n',
  '\t',
];

function planCall(random, i, mix) {
  let r = random.next();
  let kind = 'echo';
  for (const candidate of ['crash', 'spin', 'bomb', 'abort', 'trap']) {
    const share = mix[candidate] ?? 0;
    if (r < share) {
      kind = candidate;
      break;
    }
    r -= share;
  }
  if (kind !== 'echo' && kind !== 'abort') return { i, kind, data: { i } };
  const nonce = Buffer.from(random.bytes(8)).toString('hex');
  const junk = Array.from({ length: random.int(600) }, () => random.pick(JUNK)).join('');
  return { i, kind, data: { i, nonce, junk }, abortAfterMs: kind === 'abort' ? random.int(3) : 0 };
}

/** The deploys the soak makes: two good builds, and four broken ones that must never serve. */
function deployables(random) {
  const v1 = fixture('chaos');
  const v2 = fixture('chaos_v2');
  const broken = {
    garbage: Buffer.from(random.bytes(64 + random.int(256))),
    truncated: v1.subarray(0, v1.length - 7),
    'no-echo': fixture('chaos_no_echo'), // rejected by requireExports
    'echo-traps': fixture('chaos_echo_traps'), // rejected by the probe
  };
  return { good: { v1, v2 }, broken };
}

/** Resolves with the next `reload` or `reload-error` of `worker`, or `none` after `limitMs`. */
function nextOutcome(worker, limitMs) {
  return new Promise((resolve) => {
    const done = (outcome) => {
      clearTimeout(timer);
      worker.off('reload', onReload);
      worker.off('reload-error', onError);
      resolve(outcome);
    };
    const onReload = (event) => done({ type: 'reload', event });
    const onError = (error) => done({ type: 'reload-error', error });
    const timer = setTimeout(() => done({ type: 'none' }), limitMs);
    worker.on('reload', onReload);
    worker.on('reload-error', onError);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function rssMb() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  return process.memoryUsage().rss / 2 ** 20;
}

/**
 * Runs the soak and returns its figures. Never throws for a failed call: every outcome is
 * counted. See scripts/chaos-soak.d.mts for the options and figures.
 *
 * @param {import('./chaos-soak.d.mts').ChaosSoakOptions} [options]
 * @returns {Promise<import('./chaos-soak.d.mts').ChaosSoakFigures>}
 */
export async function runChaosSoak(options = {}) {
  const {
    seed = 1,
    calls = 3000,
    concurrency = 32,
    threads = 2,
    timeoutMs = 200,
    healthyTimeoutMs = 5000,
    maxMemoryMb = 16,
    deployEveryMs = 100,
    mix = DEFAULT_MIX,
    callDeadlineMs = 20_000,
    warmupCalls = Math.ceil(calls / 3),
    log = () => {},
    trace = () => {},
  } = options;
  const started = performance.now();
  const random = seededRandom(seed);
  const { good, broken } = deployables(seededRandom(seed ^ 0x5eed));
  const goodHashes = new Map(Object.entries(good).map(([name, bytes]) => [sha256(bytes), name]));
  const brokenHashes = new Map(
    Object.entries(broken).map(([name, bytes]) => [sha256(bytes), name]),
  );

  const unhandled = [];
  const onUnhandled = (reason) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);

  const dir = mkdtempSync(join(tmpdir(), 'wasmtube-soak-'));
  const file = join(dir, 'chaos.wasm');
  writeFileSync(file, good.v1);
  const rssBeforeMb = rssMb();
  const worker = await Worker.start({
    wasmFile: file,
    threads,
    timeoutMs,
    maxMemoryMb,
    hostModule: HOST_MODULE,
    probe: { fn: 'echo', input: { data: { probe: true } } },
    // Crashes are the point here: the supervisor must not give up on the worker.
    supervision: { maxRestarts: 1_000_000, periodMs: 1000 },
  });

  // Versions: the worker's, observed at every event and settled call, must never decrease.
  const versionHash = new Map([[worker.version, worker.hash]]);
  const versionAnomalies = [];
  let versionsWentBack = 0;
  let lastVersion = worker.version;
  const observeVersion = (where) => {
    const version = worker.version;
    if (version < lastVersion) {
      versionsWentBack++;
      if (versionAnomalies.length < 10) {
        versionAnomalies.push(`${where}: worker.version ${version} after ${lastVersion}`);
      }
    }
    lastVersion = Math.max(lastVersion, version);
  };
  const deploys = {
    ok: 0,
    rejected: 0,
    rolledBack: 0,
    brokenServed: 0,
    noOutcome: 0,
    byKind: {},
    rejectionCodes: {},
  };
  let lastRolledBackHash;
  worker.on('reload', (event) => {
    versionHash.set(event.to, event.hash);
    if (brokenHashes.has(event.hash)) deploys.brokenServed++;
    else deploys.ok++;
    lastRolledBackHash = undefined;
    observeVersion(`reload to ${event.to}`);
  });
  worker.on('reload-error', (error) => {
    deploys.rejected++;
    const code = error?.code ?? 'none';
    deploys.rejectionCodes[code] = (deploys.rejectionCodes[code] ?? 0) + 1;
    observeVersion('reload-error');
  });
  worker.on('rollback', (event) => {
    versionHash.set(event.to, event.restoredHash);
    deploys.rolledBack++;
    lastRolledBackHash = event.hash;
    trace(
      `rollback of version ${event.from} (${goodHashes.get(event.hash) ?? event.hash}) as ${event.to}`,
    );
    observeVersion(`rollback to ${event.to}`);
  });

  // The deployer: a good build and a broken one in turn, written in place or renamed over the file.
  const choose = seededRandom(seed ^ 0xde9107);
  const brokenNames = Object.keys(broken);
  let deploying = false;
  let step = 0;
  const deployLoop = async () => {
    for (; deploying; step++) {
      let name;
      let bytes;
      if (step % 2 === 0) {
        // The good build not serving (nor just rolled back, which would be refused); after a
        // rollback of the other one, the serving build again.
        const candidates = Object.entries(good).filter(([, b]) => {
          const hash = sha256(b);
          return hash !== worker.hash && hash !== lastRolledBackHash;
        });
        [name, bytes] =
          candidates[0] ?? Object.entries(good).find(([, b]) => sha256(b) === worker.hash);
      } else {
        name = brokenNames[(step >> 1) % brokenNames.length];
        bytes = broken[name];
      }
      const method = choose.next() < 0.5 ? 'in-place' : 'rename';
      const tally = (deploys.byKind[name] ??= { attempted: 0, served: 0, rejected: 0, none: 0 });
      tally.attempted++;
      const outcome = nextOutcome(worker, 5000);
      if (method === 'in-place') {
        writeFileSync(file, bytes);
      } else {
        const temp = join(dir, `next-${step}.tmp`);
        writeFileSync(temp, bytes);
        renameSync(temp, file);
      }
      const { type, event, error } = await outcome;
      trace(
        `deploy ${step} ${name} (${method}) at version ${worker.version}: ${type}` +
          (event
            ? ` to ${event.to} ${goodHashes.get(event.hash) ?? brokenHashes.get(event.hash)}`
            : '') +
          (error ? ` ${error.code}: ${String(error.message).slice(0, 200)}` : ''),
      );
      if (type === 'reload') tally.served++;
      else if (type === 'reload-error') tally.rejected++;
      else {
        tally.none++;
        deploys.noOutcome++;
      }
      await sleep(deployEveryMs);
    }
  };
  let deployer = Promise.resolve();
  const startDeploys = () => {
    if (deployEveryMs <= 0) return;
    deploying = true;
    deployer = deployLoop();
  };
  const stopDeploys = () => {
    deploying = false;
    return deployer;
  };

  // A quiet moment to measure: no deploy, no call in flight, every thread back.
  const threadsTarget = worker.stats().threads.target;
  const quiesce = async () => {
    await stopDeploys();
    const since = performance.now();
    const quiet = () => {
      const { threads: t, running, queued } = worker.stats();
      return t.alive === threadsTarget && running === 0 && queued === 0;
    };
    while (!quiet() && performance.now() - since < 10_000) await sleep(10);
    const waited = performance.now() - since;
    // Every thread collects its garbage twice a second under --expose-gc (chaos-host.mjs).
    if (typeof globalThis.gc === 'function') await sleep(1100);
    return waited;
  };

  // The calls, `concurrency` at a time.
  const byKind = Object.fromEntries(KINDS.map((k) => [k, { ok: 0, failed: 0, codes: {} }]));
  const unsettled = [];
  const firstHealthyFailures = [];
  const healthyFailedByCode = {};
  const firstWrongResults = [];
  const faultyCallsWithUnexpectedOutcome = [];
  const errorsWithoutCodeSamples = [];
  const versionsServed = new Map();
  let healthyFailed = 0;
  let wrongResults = 0;
  let errorsWithoutCode = 0;
  let settled = 0;
  let maxSettledVersion = -1;

  const runOne = async (call) => {
    const versionBefore = maxSettledVersion;
    const fn = call.kind === 'abort' ? 'echo' : call.kind;
    const options = call.kind === 'echo' ? { timeoutMs: healthyTimeoutMs } : {};
    if (call.kind === 'abort') {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('soak abort')), call.abortAfterMs);
      options.signal = controller.signal;
    }
    const pending = worker.callFunctionWithInfo(fn, { data: call.data }, options).then(
      (value) => ({ value }),
      (error) => ({ error }),
    );
    let timer;
    const deadline = new Promise((resolve) => (timer = setTimeout(resolve, callDeadlineMs)));
    const outcome = await Promise.race([pending, deadline]);
    clearTimeout(timer);
    if (outcome === undefined) {
      unsettled.push({ i: call.i, kind: call.kind });
      return;
    }
    settled++;
    if (settled % Math.ceil(calls / 10) === 0) {
      log(`${settled}/${calls} calls settled, version ${worker.version}, RSS ${fixed(rssMb())} MB`);
    }
    const tally = byKind[call.kind];
    if ('value' in outcome) {
      tally.ok++;
      const { result, info } = outcome.value;
      observeVersion(`call ${call.i}`);
      versionsServed.set(info.version, (versionsServed.get(info.version) ?? 0) + 1);
      if (info.version > worker.version || info.version < versionBefore) {
        versionsWentBack++;
        if (versionAnomalies.length < 10) {
          versionAnomalies.push(
            `call ${call.i}: version ${info.version}, worker at ${worker.version}, ` +
              `a call settled before it started had ${versionBefore}`,
          );
        }
      }
      maxSettledVersion = Math.max(maxSettledVersion, info.version);
      if (call.kind !== 'echo' && call.kind !== 'abort') {
        faultyCallsWithUnexpectedOutcome.push(`${call.kind} #${call.i}: succeeded`);
      } else if (!isDeepStrictEqual(result, call.data)) {
        wrongResults++;
        if (firstWrongResults.length < 5) {
          firstWrongResults.push({ i: call.i, got: JSON.stringify(result)?.slice(0, 120) });
        }
      }
      return;
    }
    const { error } = outcome;
    const code = error?.code;
    tally.failed++;
    tally.codes[code ?? 'none'] = (tally.codes[code ?? 'none'] ?? 0) + 1;
    if (typeof code !== 'string') {
      errorsWithoutCode++;
      if (errorsWithoutCodeSamples.length < 5) errorsWithoutCodeSamples.push(String(error));
    }
    if (call.kind === 'echo') {
      healthyFailed++;
      healthyFailedByCode[code ?? 'none'] = (healthyFailedByCode[code ?? 'none'] ?? 0) + 1;
      if (firstHealthyFailures.length < 10) {
        firstHealthyFailures.push({
          i: call.i,
          code: code ?? 'none',
          message: String(error?.message ?? error).slice(0, 160),
        });
      }
    } else if (!EXPECTED_CODES[call.kind].includes(code)) {
      faultyCallsWithUnexpectedOutcome.push(`${call.kind} #${call.i}: ${code ?? String(error)}`);
    }
  };

  // Calls are planned as they are made (in order, so the same seed gives the same calls): a
  // plan made up front would hold every payload and weigh on RSS.
  // Two phases, the warm-up and the rest, each followed by a quiet moment where RSS is measured
  // (mid-run it swings by tens of MB with the threads being replaced).
  let next = 0;
  let healthy = 0;
  const phase = async (end) => {
    startDeploys();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < end) {
          const call = planCall(random, next++, mix);
          if (call.kind === 'echo') healthy++;
          await runOne(call);
        }
      }),
    );
    return quiesce();
  };
  await phase(Math.min(warmupCalls, calls));
  const rssAfterWarmupMb = rssMb();
  const threadsRestoredMs = await phase(calls);
  const stats = worker.stats();
  const rssAfterMb = rssMb();
  observeVersion('end');
  await worker.stop({ timeoutMs: 2000 });
  rmSync(dir, { recursive: true, force: true });
  // Rejections surface a turn later: let them arrive before the listener goes.
  await sleep(50);
  process.off('unhandledRejection', onUnhandled);

  let callsOnBrokenVersions = 0;
  for (const [version, count] of versionsServed) {
    if (brokenHashes.has(versionHash.get(version))) callsOnBrokenVersions += count;
  }
  const warm = rssAfterWarmupMb;
  return {
    seed,
    calls,
    settled,
    unsettled,
    healthy,
    healthyFailed,
    healthyFailedByCode,
    firstHealthyFailures,
    wrongResults,
    firstWrongResults,
    byKind,
    faultyCallsWithUnexpectedOutcome,
    errorsWithoutCode,
    errorsWithoutCodeSamples,
    unhandledRejections: unhandled.length,
    unhandledRejectionSamples: unhandled.slice(0, 5).map((r) => String(r?.stack ?? r)),
    deploysEnabled: deployEveryMs > 0,
    deploys,
    versionsWentBack,
    versionAnomalies,
    finalVersion: stats.version,
    versionsServed: versionsServed.size,
    callsOnBrokenVersions,
    threadsAlive: stats.threads.alive,
    threadsTarget,
    threadsRestoredMs,
    restarts: stats.restarts,
    timeouts: stats.timeouts,
    traps: stats.traps,
    failedByCode: stats.failedByCode,
    rssBeforeMb,
    rssAfterWarmupMb: warm,
    rssAfterMb,
    rssGrowthPct: ((rssAfterMb - warm) / warm) * 100,
    gcExposed: typeof globalThis.gc === 'function',
    durationMs: performance.now() - started,
  };
}

/** The checked figures of a run; a clean run gives exactly {@link NO_VIOLATIONS}. */
export function violations(figures) {
  const { deploys, deploysEnabled } = figures;
  const brokenTallies = Object.entries(deploys.byKind)
    .filter(([name]) => !['v1', 'v2'].includes(name))
    .map(([, tally]) => tally);
  return {
    unsettled: figures.unsettled,
    healthyFailed: figures.healthyFailed,
    healthyFailedByCode: figures.healthyFailedByCode,
    firstHealthyFailures: figures.firstHealthyFailures
      .slice(0, 5)
      .map(({ i, code, message }) => `echo #${i}: ${code} (${message.slice(0, 80)})`),
    wrongResults: figures.wrongResults,
    firstWrongResults: figures.firstWrongResults,
    faultyCallsWithUnexpectedOutcome: figures.faultyCallsWithUnexpectedOutcome.slice(0, 10),
    errorsWithoutCode: figures.errorsWithoutCode,
    unhandledRejections: figures.unhandledRejections,
    threadsRestored: figures.threadsAlive === figures.threadsTarget,
    versionsWentBack: figures.versionsWentBack,
    callsOnBrokenVersions: figures.callsOnBrokenVersions,
    brokenDeploysServed: deploys.brokenServed,
    // At least one broken deploy, and each one answered by a rejection.
    brokenDeploysRejected:
      !deploysEnabled ||
      (brokenTallies.length > 0 && brokenTallies.every((t) => t.rejected === t.attempted)),
    goodDeploysServed: !deploysEnabled || deploys.ok > 0,
    // v1 and v2 fail at the same rate: neither is worse than its predecessor.
    goodVersionsRolledBack: deploys.rolledBack,
  };
}

const fixed = (n, digits = 1) => (n === undefined ? '—' : n.toFixed(digits));
const codes = (counts) =>
  Object.entries(counts)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ') || '—';

/** The figures as a readable table. */
export function formatFigures(f) {
  const rows = [
    ['seed', f.seed],
    [
      'calls (settled)',
      `${f.calls} (${f.settled}; ${f.unsettled.length} past the per-call deadline)`,
    ],
    ['duration', `${fixed(f.durationMs / 1000)} s`],
    ['healthy calls', f.healthy],
    [
      'healthy calls failed',
      `${f.healthyFailed}${f.healthyFailed ? ` (${codes(f.healthyFailedByCode)})` : ''}`,
    ],
    ['wrong results', f.wrongResults],
    ...KINDS.map((kind) => {
      const t = f.byKind[kind];
      return [
        `  ${kind}`,
        `ok ${t.ok}, failed ${t.failed}${t.failed ? ` (${codes(t.codes)})` : ''}`,
      ];
    }),
    ['faulty calls with another outcome', f.faultyCallsWithUnexpectedOutcome.length],
    ['errors without a code', f.errorsWithoutCode],
    ['unhandled rejections', f.unhandledRejections],
    [
      'deploys',
      f.deploysEnabled
        ? `served ${f.deploys.ok}, rejected ${f.deploys.rejected}, rolled back ${f.deploys.rolledBack}, ` +
          `broken served ${f.deploys.brokenServed}, no outcome ${f.deploys.noOutcome}`
        : 'none',
    ],
    ...Object.entries(f.deploys.byKind).map(([name, t]) => [
      `  ${name}`,
      `attempted ${t.attempted}, served ${t.served}, rejected ${t.rejected}, no outcome ${t.none}`,
    ]),
    [
      'versions',
      `final ${f.finalVersion}, ${f.versionsServed} of them served calls, went back ${f.versionsWentBack}`,
    ],
    ...f.versionAnomalies.slice(0, 5).map((line) => ['  went back', line]),
    ['calls on broken versions', f.callsOnBrokenVersions],
    [
      'threads alive / target',
      `${f.threadsAlive} / ${f.threadsTarget} (after ${fixed(f.threadsRestoredMs, 0)} ms)`,
    ],
    ['restarts, timeouts, traps', `${f.restarts}, ${f.timeouts}, ${f.traps}`],
    ['RSS before start', `${fixed(f.rssBeforeMb)} MB`],
    ['RSS after warm-up', `${fixed(f.rssAfterWarmupMb)} MB`],
    [
      `RSS at the end${f.gcExposed ? ' (after gc)' : ' (no --expose-gc)'}`,
      `${fixed(f.rssAfterMb)} MB`,
    ],
    ['RSS growth after warm-up', `${fixed(f.rssGrowthPct)} %`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '30000' },
      seed: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '32' },
      threads: { type: 'string', default: '2' },
      calm: { type: 'boolean', default: false },
      trace: { type: 'boolean', default: false },
      'max-rss-growth': { type: 'string', default: '10' },
    },
  });
  const figures = await runChaosSoak({
    calls: Number(values.calls),
    seed: Number(values.seed),
    concurrency: Number(values.concurrency),
    threads: Number(values.threads),
    ...(values.calm ? CALM : {}),
    log: (line) => console.log(`  ${line}`),
    ...(values.trace ? { trace: (line) => console.log(`  ${line}`) } : {}),
  });
  console.log(`\n${formatFigures(figures)}\n`);
  const found = violations(figures);
  const failed = Object.keys(NO_VIOLATIONS).filter(
    (key) => !isDeepStrictEqual(found[key], NO_VIOLATIONS[key]),
  );
  for (const key of failed) console.log(`FAIL ${key}: ${JSON.stringify(found[key])}`);
  const maxGrowth = Number(values['max-rss-growth']);
  if (figures.rssGrowthPct > maxGrowth) {
    console.log(
      `FAIL RSS grew ${fixed(figures.rssGrowthPct)} % after warm-up (limit ${maxGrowth} %)`,
    );
  }
  const passed = failed.length === 0 && figures.rssGrowthPct <= maxGrowth;
  if (passed) console.log('PASS');
  else process.exitCode = 1;
  // bench/RESULTS.md shows the last run (bench/report.mjs includes this file).
  const report = new URL('../bench/soak-results.md', import.meta.url);
  const args = process.argv.slice(2);
  const command = ['npm run soak', ...(args.length > 0 ? ['--', ...args] : [])].join(' ');
  writeFileSync(
    report,
    `Last run: \`${command}\` on ` +
      `${new Date().toISOString()}, Node ${process.version}, ${availableParallelism()} CPUs: ` +
      `**${passed ? 'PASS' : 'FAIL'}**.\n\n\`\`\`text\n${formatFigures(figures)}\n\`\`\`\n`,
  );
  console.log(`wrote ${fileURLToPath(report)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
