// 10. Isolation (issue 19): 64 B JSON echo through a Worker with isolation 'instance' (state kept),
// 'call' (memory and globals restored after every call) and maxCallsPerInstance: 1 (a fresh
// instance per call), on 1 and 2 threads, for the test guest and the example guests; the three
// pools of a case are measured in turns (throughputs() in lib.mjs), so their ratio survives a
// busy machine. Then the restore's own cost, in-process and in CPU time: per call on each guest,
// and per KiB of ready memory on a guest whose memory is all ready state.
import { fileURLToPath } from 'node:url';
import { Wasmtube, Worker } from '../../dist/index.js';
import { FIXTURE, jsonPayload, throughputs } from '../lib.mjs';

export const title = "Isolation: 'instance' vs 'call' vs a fresh instance per call";

const example = (name) => fileURLToPath(new URL(`../../examples/${name}.wasm`, import.meta.url));

/** The guests: a 64 B JSON call on each. */
const GUESTS = [
  { id: 'test', label: 'test guest echo', file: FIXTURE, fn: 'echo', data: jsonPayload(64) },
  {
    id: 'echo',
    label: 'examples/echo hello',
    file: example('echo'),
    fn: 'hello',
    data: { name: 'x'.repeat(50) },
  },
  {
    id: 'cipher',
    label: 'examples/cipher encrypt',
    file: example('cipher'),
    fn: 'encrypt',
    data: { text: 'x'.repeat(50) },
    wasi: { env: { SHIFT: '5' } },
    // As the gateway grants it (examples/cipher.json), discarding the lines.
    hostFunctions: { wasmtube: { log: { params: ['string'], returns: 'void', fn: () => {} } } },
  },
];

/** The options a guest needs besides its file. */
const needs = (guest) => ({
  ...(guest.wasi && { wasi: guest.wasi }),
  ...(guest.hostFunctions && { hostFunctions: guest.hostFunctions }),
});

const MODES = [
  ['instance', { isolation: 'instance' }],
  ['call', { isolation: 'call' }],
  ['fresh', { maxCallsPerInstance: 1 }],
];

export default async function isolation(ctx) {
  for (const guest of GUESTS) {
    for (const threads of [1, 2]) {
      if (!ctx.want(`${guest.id}.${threads}t`)) continue;
      await pools(ctx, guest, threads);
    }
  }
  if (ctx.want('restore')) await restoreCost(ctx);
}

async function pools(ctx, guest, threads) {
  const workers = [];
  try {
    for (const [, options] of MODES) {
      workers.push(
        await Worker.start({
          wasmFile: guest.file,
          threads,
          watch: false,
          ...needs(guest),
          ...options,
        }),
      );
    }
    const call = (w) => () => w.callFunction(guest.fn, { data: guest.data });
    const rates = await throughputs(workers.map(call), ctx.throughputOptions(64));
    const results = {};
    MODES.forEach(([mode], i) => {
      results[mode] = rates[i];
      ctx.add(
        `${guest.id}.${threads}t.${mode}`,
        `${guest.label} 64 B, ${threads} thread${threads > 1 ? 's' : ''}, ${mode}`,
        rates[i],
        'calls/s',
      );
    });
    for (const mode of ['call', 'fresh']) {
      ctx.add(
        `${guest.id}.${threads}t.${mode}-ratio`,
        `  ${mode} ÷ instance`,
        { value: results[mode].value / results.instance.value },
        'x',
        mode === 'call' ? 'goal ≥ 0.6' : undefined,
      );
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/**
 * CPU µs per call of `fns.instance` and `fns.call`, measured in alternating turns with
 * process.cpuUsage: CPU time, not wall time, so other processes on the machine disturb it less.
 */
async function cpuPerCall(fns, { iterations, warmup, turns = 7 }) {
  const samples = { instance: [], call: [] };
  for (let t = 0; t < turns; t++) {
    for (const mode of ['instance', 'call']) {
      for (let i = 0; i < warmup; i++) await fns[mode]();
      const before = process.cpuUsage();
      for (let i = 0; i < iterations; i++) await fns[mode]();
      const used = process.cpuUsage(before);
      samples[mode].push((used.user + used.system) / iterations);
    }
  }
  const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
  return median(samples.call) - median(samples.instance);
}

/** In-process CPU µs per call the restore adds, on each guest and on a bare memory. */
async function restoreCost(ctx) {
  for (const guest of GUESTS) {
    const bridges = {};
    for (const isolation of ['instance', 'call']) {
      bridges[isolation] = Wasmtube.fromFile(guest.file, { isolation, ...needs(guest) });
    }
    const readyKiB = bridges.call.memoryBytes / 1024;
    const call = (mode) => () => bridges[mode].callFunctionSync(guest.fn, { data: guest.data });
    const cost = await cpuPerCall(
      { instance: call('instance'), call: call('call') },
      { iterations: ctx.n(4000), warmup: ctx.n(500) },
    );
    ctx.add(
      `restore.${guest.id}`,
      `restore per call (CPU), ${guest.label}`,
      { value: cost },
      'µs',
      `${readyKiB} KiB of ready memory`,
    );
    ctx.add(
      `restore.${guest.id}.per-kib`,
      '  per KiB of ready memory',
      { value: (cost * 1000) / readyKiB },
      'ns',
    );
  }
  // A guest whose 16 MiB of memory is all ready state (non-zero data), with a no-op function:
  // the restore's cost per KiB when nothing changed, and when one 4 KiB chunk per page did.
  for (const [id, touch] of [
    ['clean', 0],
    ['dirty', 1],
  ]) {
    const bridges = {
      instance: Wasmtube.fromBinary(bareGuest(256), { isolation: 'instance' }),
      call: Wasmtube.fromBinary(bareGuest(256), { isolation: 'call' }),
    };
    const cost = await cpuPerCall(
      {
        instance: () => bridges.instance.call('touch', [touch]),
        call: () => bridges.call.call('touch', [touch]),
      },
      { iterations: ctx.n(200), warmup: ctx.n(20), turns: 5 },
    );
    const kib = 256 * 64;
    ctx.add(
      `restore.bare.${id}`,
      `restore per KiB (CPU), 16 MiB ready, ${touch ? 'every page written' : 'nothing written'}`,
      { value: (cost * 1000) / kib },
      'ns',
    );
  }
}

/**
 * (module (memory (export "memory") pages) (data (i32.const 0) "\01...") (func (export "touch")
 * (param i32) (result i32) ...)): `touch(1)` writes one byte in every page, `touch(0)` nothing.
 */
function bareGuest(pages) {
  const leb = (n) => {
    const out = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const section = (id, body) => [id, ...leb(body.length), ...body];
  // Every page starts with 4 KiB of 0x01: non-zero ready state to compare against.
  const data = [];
  for (let p = 0; p < pages; p++) {
    data.push(0x00, 0x41, ...sleb(p * 65536), 0x0b, ...leb(4096), ...new Array(4096).fill(1));
  }
  // (local $p) loop: if param: store8 at $p; $p += 65536; br_if $p < pages*65536
  const code = [
    0x01,
    0x01,
    0x7f, // one i32 local
    0x20,
    0x00,
    0x04,
    0x40, // if (param)
    0x03,
    0x40, // loop
    0x20,
    0x01,
    0x41,
    0x02,
    0x3a,
    0x00,
    0x00, // i32.store8 $p 2
    0x20,
    0x01,
    0x41,
    ...sleb(65536),
    0x6a,
    0x22,
    0x01, // $p += 65536 (tee)
    0x41,
    ...sleb(pages * 65536),
    0x49,
    0x0d,
    0x00, // br_if $p < end
    0x0b,
    0x0b, // end loop, end if
    0x41,
    0x00,
    0x0b, // return 0
  ];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f]),
    ...section(3, [0x01, 0x00]),
    ...section(5, [0x01, 0x00, ...leb(pages)]),
    ...section(7, [
      0x02,
      0x06,
      ...Buffer.from('memory'),
      0x02,
      0x00,
      0x05,
      ...Buffer.from('touch'),
      0x00,
      0x00,
    ]),
    ...section(10, [0x01, ...leb(code.length), ...code]),
    ...section(11, [...leb(pages), ...data]),
  ];
  return Uint8Array.from(bytes);
}

function sleb(n) {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n === 0 && (b & 0x40) === 0) return [...out, b];
    if (n === -1 && (b & 0x40) !== 0) return [...out, b];
    out.push(b | 0x80);
  }
}
