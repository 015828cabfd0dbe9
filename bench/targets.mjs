// The performance targets, each a ratio (or a number) computed from rows of the same run.
// `status` is 'met', 'missed' or 'not measured' (a row it needs is missing, e.g. in a partial run).

/** @returns {{ id, text, measured, limit, status, detail }[]} */
export function evaluateTargets(rows) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const get = (id) => byId.get(id);
  const p50 = (id) => get(id)?.p50 ?? get(id)?.value;
  const value = (id) => get(id)?.value;

  const targets = [];
  const ratioTarget = (id, text, numerator, denominator, op, limit, detail = '') => {
    const a = numerator();
    const b = denominator();
    const measured = a !== undefined && b !== undefined ? a / b : undefined;
    targets.push(finish({ id, text, measured, limit, op, unit: 'x', detail }));
  };
  const absoluteTarget = (id, text, measure, op, limit, unit, detail = '') => {
    targets.push(finish({ id, text, measured: measure(), limit, op, unit, detail }));
  };

  const atomicsSync = p50('threads.atomics-sync.64');
  ratioTarget(
    'latency-vs-atomics',
    'Small call (64 B JSON echo), 1 in flight, through Worker vs the SAB + Atomics round trip (waitAsync)',
    () => p50('worker.latency.64'),
    () => p50('threads.atomics-async.64'),
    '≤',
    1.2,
    [
      atomicsSync &&
        p50('worker.latency.64') &&
        `${(p50('worker.latency.64') / atomicsSync).toFixed(2)}× the blocking-wait variant`,
      p50('threads.atomics-spin.64') &&
        p50('worker.latency.64') &&
        `${(p50('worker.latency.64') / p50('threads.atomics-spin.64')).toFixed(1)}× the ` +
          `both-sides-spinning round trip`,
      p50('worker.latency.sparse.64') &&
        p50('threads.atomics-async.sparse.64') &&
        `with ~1 ms idle before each call: ${(
          p50('worker.latency.sparse.64') / p50('threads.atomics-async.sparse.64')
        ).toFixed(2)}×`,
    ]
      .filter(Boolean)
      .join('; '),
  );
  // Issue 18: sporadic calls, measured side by side with their floors (worker.sparse-*).
  for (const gap of ['1ms', '10ms']) {
    const worker = `worker.sparse-${gap}.worker`;
    const bare = `worker.sparse-${gap}.postmessage`;
    const atomics = `worker.sparse-${gap}.atomics`;
    ratioTarget(
      `sparse-${gap}-vs-postmessage`,
      `One 64 B call after ~${gap.replace('ms', ' ms')} idle through Worker vs a bare postMessage round trip in the same state (side by side)`,
      () => p50(worker),
      () => p50(bare),
      '≤',
      1.5,
      [
        get(worker)?.p99 &&
          get(bare)?.p99 &&
          `p99 ${get(worker).p99.toFixed(0)} vs ${get(bare).p99.toFixed(0)} µs (${(get(worker).p99 / get(bare).p99).toFixed(2)}×)`,
        p50(worker) &&
          p50(atomics) &&
          `${(p50(worker) / p50(atomics)).toFixed(2)}× the SAB+Atomics floor (${p50(atomics).toFixed(1)} µs)`,
      ]
        .filter(Boolean)
        .join('; '),
    );
  }
  ratioTarget(
    'latency-vs-extism',
    'Small call (64 B JSON echo), 1 in flight, through Worker vs Extism runInWorker',
    () => p50('worker.latency.64'),
    () => p50('extism.worker.64'),
    '≤',
    0.5,
    p50('extism.wasmtube-worker-raw.64') && p50('extism.worker.64')
      ? `like-for-like do-nothing guests: ${(p50('extism.wasmtube-worker-raw.64') / p50('extism.worker.64')).toFixed(2)}×`
      : '',
  );
  ratioTarget(
    'throughput-vs-postmessage',
    'Throughput, 64 B echo, 64 in flight, Worker on 1 thread vs pipelined bare postMessage',
    () => value('worker.throughput.1t.64'),
    () => value('threads.postmessage-pipelined.64'),
    '≥',
    0.5,
  );
  ratioTarget(
    'throughput-vs-piscina',
    "Throughput, 64 B echo, 64 in flight, Worker on 1 thread vs piscina's defaults",
    () => value('worker.throughput.1t.64'),
    () => value('piscina.default.throughput.64'),
    '≥',
    5,
    [
      value('piscina.1thread.throughput.64') &&
        `${(value('worker.throughput.1t.64') / value('piscina.1thread.throughput.64')).toFixed(2)}× piscina pinned to 1 thread`,
      value('floor.bridge.64') &&
        value('piscina.default.throughput.64') &&
        `the same call in-process, no thread at all, runs ${Math.round(1e6 / value('floor.bridge.64')).toLocaleString('en-US')} calls/s: ` +
          `${(1e6 / value('floor.bridge.64') / value('piscina.default.throughput.64')).toFixed(2)}× piscina's defaults`,
    ]
      .filter(Boolean)
      .join('; '),
  );
  ratioTarget(
    'scaling-tiny',
    'Throughput, 64 B echo: 2 threads vs 1 (never slower)',
    () => value('worker.throughput.2t.64'),
    () => value('worker.throughput.1t.64'),
    '≥',
    1.0,
  );
  ratioTarget(
    'scaling-work',
    'Throughput, calls doing ≥ 200 µs of guest work: 2 threads vs 1',
    () => value('worker.work.2t'),
    () => value('worker.work.1t'),
    '≥',
    1.8,
    value('worker.work.inprocess')
      ? `guest work per call ${value('worker.work.inprocess').toFixed(0)} µs in-process`
      : '',
  );
  ratioTarget(
    'image-size-vs-transfer',
    '1080p RGB round trip (image_size: RGB in, JSON out) through Worker vs the bare-thread copy + transfer there and back',
    () => p50('images.worker-size'),
    () => p50('images.bare-transfer'),
    '≤',
    2.5,
    p50('images.bridge-size')
      ? `in-process bridge: ${p50('images.bridge-size').toFixed(2)} ms`
      : '',
  );
  ratioTarget(
    'image-vs-transfer',
    '1080p RGB round trip (invert, RGB in and out) through Worker vs the bare-thread copy + transfer there and back',
    () => p50('images.worker-invert'),
    () => p50('images.bare-transfer'),
    '≤',
    2.5,
    [
      p50('images.worker-invert-into') &&
        p50('images.bare-transfer') &&
        `with a reused resultBuffer: ${(p50('images.worker-invert-into') / p50('images.bare-transfer')).toFixed(2)}×`,
      p50('images.worker-invert-shared') &&
        p50('images.bare-transfer') &&
        `image and resultBuffer shared: ${(p50('images.worker-invert-shared') / p50('images.bare-transfer')).toFixed(2)}×`,
      p50('images.bare-invert') &&
        `${(p50('images.worker-invert') / p50('images.bare-invert')).toFixed(2)}× a bare thread doing the same invert`,
      p50('images.raw-invert') &&
        p50('images.bare-transfer') &&
        `transport only (Worker − in-process raw invert, ${(p50('images.worker-invert') - p50('images.raw-invert')).toFixed(2)} ms): ` +
          `${((p50('images.worker-invert') - p50('images.raw-invert')) / p50('images.bare-transfer')).toFixed(2)}× the floor`,
    ]
      .filter(Boolean)
      .join('; '),
  );
  ratioTarget(
    'gateway-vs-fastify',
    'HTTP 64 B JSON echo, 32 connections (autocannon): `wasmtube serve` requests/s vs a bare fastify route',
    () => value('http.gateway.rps'),
    () => value('http.bare.rps'),
    '≥',
    0.6,
    [
      value('http.bridge.rps') &&
        value('http.bare.rps') &&
        `fastify route → in-process bridge: ${(value('http.bridge.rps') / value('http.bare.rps')).toFixed(2)}×`,
      value('http.gateway1.rps') &&
        value('http.bare.rps') &&
        `serve --threads 1: ${(value('http.gateway1.rps') / value('http.bare.rps')).toFixed(2)}×`,
    ]
      .filter(Boolean)
      .join('; '),
  );
  ratioTarget(
    'gateway-p99-vs-fastify',
    'HTTP 64 B JSON echo, 32 connections: `wasmtube serve` p99 latency vs a bare fastify route',
    () => get('http.gateway.latency')?.p99,
    () => get('http.bare.latency')?.p99,
    '≤',
    2,
  );
  absoluteTarget(
    'reload-latency',
    'Reload: rename → first call served by the new version, p50',
    () => p50('reload.latency'),
    '≤',
    150,
    'ms',
    get('reload.latency') ? `p99 ${get('reload.latency').p99.toFixed(0)} ms` : '',
  );
  absoluteTarget(
    'reload-failures',
    'Reload: failed calls (20 reloads, and the reload storm)',
    () => {
      const counts = ['reload.latency', 'reload.storm'].map((id) => get(id)?.failed);
      return counts.some((c) => c === undefined) ? undefined : counts[0] + counts[1];
    },
    '≤',
    0,
    'calls',
  );
  absoluteTarget(
    'timeout-replacement',
    'Timeout: ERR_CALL_TIMEOUT → replacement thread serving, p50',
    () => p50('reload.timeout'),
    '≤',
    50,
    'ms',
    get('reload.timeout') ? `p99 ${get('reload.timeout').p99.toFixed(0)} ms` : '',
  );
  // Issue 19: per-call isolation.
  const isolationDetail = ['test.2t', 'echo.1t', 'echo.2t', 'cipher.1t', 'cipher.2t']
    .map(
      (c) =>
        value(`isolation.${c}.call-ratio`) &&
        `${c} ${value(`isolation.${c}.call-ratio`).toFixed(2)}×`,
    )
    .filter(Boolean);
  ratioTarget(
    'isolation-call',
    "isolation 'call' vs 'instance', 64 B JSON echo on the test guest, 1 thread, calls/s",
    () => value('isolation.test.1t.call'),
    () => value('isolation.test.1t.instance'),
    '≥',
    0.6,
    [
      isolationDetail.length && `others: ${isolationDetail.join(', ')}`,
      value('isolation.test.1t.fresh-ratio') &&
        `a fresh instance per call: ${value('isolation.test.1t.fresh-ratio').toFixed(2)}×`,
    ]
      .filter(Boolean)
      .join('; '),
  );
  // Issue 15: components.
  ratioTarget(
    'component-inprocess',
    'Component string-in/string-out (typed call) vs the same logic as a core function, in-process',
    () => p50('components.bridge.component'),
    () => p50('components.bridge.core'),
    '≤',
    2,
  );
  ratioTarget(
    'component-worker',
    'Component (typed call) vs the same logic as a core function, through a Worker, 1 in flight',
    () => p50('components.worker.component'),
    () => p50('components.worker.core'),
    '≤',
    1.2,
    p50('components.worker.component-json') && p50('components.worker.core')
      ? `JSON call: ${(p50('components.worker.component-json') / p50('components.worker.core')).toFixed(2)}×`
      : '',
  );
  // Issue 14: the lattice.
  ratioTarget(
    'lattice-vs-nats',
    'Lattice call to a module on another host vs a bare NATS request/reply between the same processes',
    () => p50('lattice.latency.lattice'),
    () => p50('lattice.latency.bare-nats'),
    '≤',
    1.3,
    p50('lattice.latency.local') && p50('lattice.latency.lattice')
      ? `${(p50('lattice.latency.lattice') / p50('lattice.latency.local')).toFixed(1)}× a local Worker call`
      : '',
  );
  // Issue 18: threads that cost nothing at rest.
  absoluteTarget(
    'scaling-idle-rss',
    'Gateway with 50 idle modules (minThreads 0), RSS, the reservoir of blank threads included',
    () => value('scaling.idle-rss'),
    '≤',
    150,
    'MB',
  );
  absoluteTarget(
    'scaling-cold-call',
    'Call to a module scaled to zero, p50',
    () => p50('scaling.cold-call'),
    '≤',
    30,
    'ms',
    [
      get('scaling.cold-call') && `p99 ${get('scaling.cold-call').p99.toFixed(1)} ms`,
      p50('scaling.cold-call-no-reservoir') &&
        `${p50('scaling.cold-call-no-reservoir').toFixed(1)} ms without the reservoir (a thread boots)`,
    ]
      .filter(Boolean)
      .join('; '),
  );
  absoluteTarget(
    'scaling-grow',
    "Threads 1 → maxThreads (4) under load, p50, the default reservoir ('auto')",
    () => p50('scaling.grow'),
    '≤',
    100,
    'ms',
    [
      get('scaling.grow') && `p99 ${get('scaling.grow').p99.toFixed(0)} ms`,
      p50('scaling.grow-reservoir-1') &&
        `${p50('scaling.grow-reservoir-1').toFixed(0)} ms with 1 blank thread (--blank-threads 1: ` +
          'the other new thread boots while the cores are busy)',
    ]
      .filter(Boolean)
      .join('; '),
  );
  return targets;
}

function finish(target) {
  const { measured, limit, op } = target;
  let status = 'not measured';
  if (measured !== undefined && !Number.isNaN(measured)) {
    status = (op === '≤' ? measured <= limit : measured >= limit) ? 'met' : 'missed';
  }
  return { ...target, status };
}

export function formatTarget(t, value = t.measured) {
  if (value === undefined || Number.isNaN(value)) return '—';
  if (t.unit === 'x') return `${value.toFixed(2)}×`;
  if (t.unit === 'calls') return String(value);
  return `${value.toFixed(0)} ${t.unit}`;
}
