/**
 * Seeded fuzzing of the bridge and a Worker: mutated module binaries, and random names, inputs
 * and options. Every outcome must be a value or a WasmtubeError with a code docs/errors.md
 * documents. Reproduce a failure with FUZZ_SEED=<seed printed in the message>.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { Worker as NodeWorker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wasmtube, WasmtubeError, Worker } from '../dist/index.js';
import { WASM_TEST, gradient } from './helpers.js';
import { seededRandom, type SeededRandom } from './seeded-random.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const root = new URL('../', import.meta.url);

/** The codes docs/errors.md lists, but ERR_UNKNOWN: a non-wasmtube error, i.e. a bug here. */
const DOCUMENTED = new Set(
  [...readFileSync(new URL('docs/errors.md', root), 'utf8').matchAll(/^\| `(ERR_[A-Z0-9_]+)`/gm)]
    .map((m) => m[1]!)
    .filter((code) => code !== 'ERR_UNKNOWN'),
);

const show = (value: unknown): string => {
  try {
    return inspect(value, { depth: 2, breakLength: Infinity, maxStringLength: 80 }).slice(0, 300);
  } catch {
    return '<uninspectable>';
  }
};

/** Null when the outcome is acceptable, else why not. */
function judge(error: unknown): string | null {
  if (error instanceof WasmtubeError && DOCUMENTED.has(error.code)) return null;
  return `not a documented WasmtubeError: ${show(error)}`;
}

function detached(length = 8): Uint8Array {
  const view = new Uint8Array(length);
  structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
}

// ---- mutated binaries ----

function readLeb(bytes: Uint8Array, at: number): { value: number; end: number } {
  let value = 0;
  let shift = 0;
  let end = at;
  while (end < bytes.length && end < at + 5) {
    const byte = bytes[end++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) break;
  }
  return { value, end };
}

/** [start, sizeStart, payloadStart, end) of each top-level section. */
function sections(
  bytes: Uint8Array,
): { start: number; sizeAt: number; body: number; end: number }[] {
  const out = [];
  let at = 8;
  while (at < bytes.length) {
    const { value, end: body } = readLeb(bytes, at + 1);
    const end = Math.min(bytes.length, body + value);
    out.push({ start: at, sizeAt: at + 1, body, end });
    if (end <= at) break;
    at = end;
  }
  return out;
}

const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

function mutate(r: SeededRandom, original: Uint8Array): { bytes: Uint8Array; how: string } {
  const bytes = new Uint8Array(original);
  const secs = sections(bytes);
  const kind = r.int(8);
  if (kind === 7) return { bytes, how: 'unchanged' };
  // Flips in data and custom sections keep the module valid: its guest then runs on bad data.
  const soft = secs.filter((sec) => bytes[sec.start] === 11 || bytes[sec.start] === 0);
  if (kind >= 5 && soft.length > 0) {
    const sec = r.pick(soft);
    const flips = 1 + r.int(32);
    for (let i = 0; i < flips; i++) {
      const at = sec.body + r.int(Math.max(1, sec.end - sec.body));
      bytes[at] = bytes[at]! ^ (1 << r.int(8));
    }
    return { bytes, how: `flip ${flips} in section ${bytes[sec.start]} at ${sec.start}` };
  }
  if (kind === 0 || secs.length === 0) {
    const flips = 1 + r.int(8);
    for (let i = 0; i < flips; i++) {
      const at = r.int(bytes.length);
      bytes[at] = bytes[at]! ^ (1 << r.int(8));
    }
    return { bytes, how: `flip ${flips}` };
  }
  if (kind === 1) {
    const at = r.int(bytes.length);
    return { bytes: bytes.subarray(0, at), how: `truncate at ${at}` };
  }
  if (kind === 2) {
    const at = r.int(bytes.length);
    const garbage = r.bytes(1 + r.int(16));
    return {
      bytes: concat(bytes.subarray(0, at), garbage, bytes.subarray(at)),
      how: `insert ${garbage.length} at ${at}`,
    };
  }
  const sec = r.pick(secs);
  if (kind === 3) {
    const copy = bytes.subarray(sec.start, sec.end);
    return {
      bytes: concat(bytes.subarray(0, sec.end), copy, bytes.subarray(sec.end)),
      how: `duplicate section ${bytes[sec.start]} at ${sec.start}`,
    };
  }
  // A lying LEB: the section's size replaced by a random one, in 5 bytes.
  const lie = r.pick([0, 1, 0x7f, 0xffffffff, r.int(2 ** 32), sec.end - sec.body + 1 + r.int(64)]);
  const leb = new Uint8Array(5);
  for (let i = 0; i < 5; i++) leb[i] = ((lie / 2 ** (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0);
  return {
    bytes: concat(bytes.subarray(0, sec.sizeAt), leb, bytes.subarray(sec.body)),
    how: `section ${bytes[sec.start]} at ${sec.start} claims ${lie} bytes`,
  };
}

// A thread loads each mutant and calls one export: a mutated guest may loop forever, which
// only terminating its thread stops. Plain JS, so no TypeScript transform is needed.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const lib = import(workerData.dist);
const outcome = (lib, e) => e === undefined ? { ok: true } : {
  ok: false, wasmtube: e instanceof lib.WasmtubeError, code: e && e.code,
  text: String(e && e.name) + ': ' + String(e && e.message).slice(0, 200) };
// The first component a thread loads imports jco-transpile and compiles its wasm: seconds on a
// loaded machine, with the thread's event loop busy. Paid here, before the clock of any mutant.
lib
  .then((l) => l.Wasmtube.load(workerData.component).then((b) => b.close?.(), () => {}))
  .then(() => parentPort.postMessage({ ready: true }));
parentPort.on('message', async ({ i, bytes, pick, input }) => {
  const l = await lib;
  let bridge;
  try { bridge = l.Wasmtube.fromBinary(bytes, { maxMemoryMb: 64 }); }
  catch (e) { parentPort.postMessage({ i, stage: 'load', ...outcome(l, e) }); return parentPort.postMessage({ i, stage: 'done' }); }
  parentPort.postMessage({ i, stage: 'load', ok: true });
  try {
    const names = bridge.exports().map((e) => e.name);
    if (names.length > 0) {
      const fn = names[pick % names.length];
      parentPort.postMessage({ i, stage: 'calling', fn });
      await bridge.callFunction(fn, input);
    }
    parentPort.postMessage({ i, stage: 'call', ok: true });
  } catch (e) { parentPort.postMessage({ i, stage: 'call', ...outcome(l, e) }); }
  parentPort.postMessage({ i, stage: 'done' });
});`;

interface Mutant {
  bytes: Uint8Array;
  how: string;
  pick: number;
  input: unknown;
}
type Report = {
  i: number;
  stage: string;
  ok?: boolean;
  wasmtube?: boolean;
  code?: string;
  text?: string;
  fn?: string;
};

const HANG_MS = 2000;

/** Runs the mutants in a thread, a fresh one after each hang; returns every report. */
async function runMutants(mutants: Mutant[]): Promise<{ reports: Report[]; hangs: Report[] }> {
  const reports: Report[] = [];
  const hangs: Report[] = [];
  let next = 0;
  while (next < mutants.length) {
    const thread = new NodeWorker(THREAD, {
      eval: true,
      workerData: {
        dist: new URL('dist/index.js', root).href,
        component: readFileSync(new URL('examples/caesar.wasm', root)),
      },
    });
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let last: Report = { i: next, stage: 'sent' };
      const finish = () => (clearTimeout(timer), resolve());
      const send = () => {
        if (next >= mutants.length) return finish();
        const m = mutants[next]!;
        last = { i: next, stage: 'sent' };
        thread.postMessage({ i: next, bytes: m.bytes, pick: m.pick, input: m.input });
        clearTimeout(timer);
        timer = setTimeout(() => (hangs.push(last), next++, finish()), HANG_MS);
      };
      thread.on('message', (m: Report & { ready?: boolean }) => {
        if (m.ready) return send();
        if (m.stage === 'done') return (next++, send());
        last = m;
        reports.push(m);
      });
      thread.on('error', (error) => {
        reports.push({
          i: next,
          stage: 'thread',
          ok: false,
          text: `thread crashed: ${show(error)}`,
        });
        next++;
        finish();
      });
    });
    await thread.terminate();
  }
  return { reports, hangs };
}

function fixtureBinaries(): { name: string; bytes: Uint8Array }[] {
  const dirs = ['test/fixtures/', 'examples/'];
  return dirs.flatMap((dir) =>
    readdirSync(new URL(dir, root))
      .filter((f) => f.endsWith('.wasm') && f !== 'start_loop.wasm')
      .map((f) => ({ name: dir + f, bytes: readFileSync(new URL(dir + f, root)) })),
  );
}

// ---- random arguments ----

function junk(r: SeededRandom, depth = 0): unknown {
  switch (r.int(depth > 1 ? 16 : 19)) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return r.int(1000) - 500;
    case 3:
      return r.next() * 10;
    case 4:
      return NaN;
    case 5:
      return r.pick([Infinity, -Infinity, -0]);
    case 6:
      return 2 ** r.int(64) + r.int(3);
    case 7:
      return BigInt(r.int(1e6)) * r.pick([1n, -1n, 2n ** 40n]);
    case 8:
      return r.pick(['', 'x', 'json', 'bytes', 'rgb', 'png', '\u0000\uffff', 'i32']);
    case 9:
      return Symbol('junk');
    case 10:
      return () => 1;
    case 11:
      return Buffer.from(r.bytes(r.int(48)));
    case 12:
      return detached(r.int(16));
    case 13:
      return new Uint8Array(new SharedArrayBuffer(8));
    case 14:
      return r.pick([true, false]);
    case 15:
      return r.pick([new Date(0), new Map(), /x/, new ArrayBuffer(4)]);
    case 16:
      return Array.from({ length: r.int(4) }, () => junk(r, depth + 1));
    case 17:
      return Object.fromEntries(
        Array.from({ length: r.int(4) }, () => [
          r.pick(['a', 'data', 'bytes', 'image', 'x']),
          junk(r, depth + 1),
        ]),
      );
    default:
      return { data: junk(r, depth + 1) };
  }
}

function randomInput(r: SeededRandom): unknown {
  const size = () => r.pick<unknown>([1, 2, 3, 4, -2, 0, 1.5, '2', 2n, 70_000, junk(r)]);
  switch (r.int(8)) {
    case 0:
      return { data: junk(r) };
    case 1:
      return { data: junk(r), codec: r.pick<unknown>(['json', 'msgpack', junk(r)]) };
    case 2:
      return { bytes: r.pick<unknown>([Buffer.from(r.bytes(r.int(64))), junk(r)]) };
    case 3: {
      const w = r.int(4) + 1;
      const h = r.int(4) + 1;
      return {
        image: gradient(w, h),
        width: r.pick<unknown>([w, size()]),
        height: r.pick<unknown>([h, size()]),
      };
    }
    case 4:
      return { image: r.pick<unknown>([r.bytes(18), junk(r)]), width: size(), height: size() };
    case 5:
      return { data: 1, bytes: new Uint8Array(1) };
    case 6:
      return junk(r);
    default:
      return { data: { args: 'fuzz', n: r.int(100) } };
  }
}

function randomOptions(r: SeededRandom): unknown {
  if (r.int(6) === 0) return junk(r);
  const options: Record<string, unknown> = {};
  const values: Record<string, () => unknown> = {
    returns: () =>
      r.pick<unknown>(['json', 'bytes', 'rgb', 'png', 'msgpack', 'i32', 'void', junk(r)]),
    signal: () =>
      r.pick<unknown>([new AbortController().signal, AbortSignal.abort('fuzz'), junk(r)]),
    resultBuffer: () => r.pick<unknown>([new Uint8Array(r.int(100)), junk(r)]),
    timeoutMs: () => r.pick<unknown>([500, 1000, junk(r)]),
    queueTimeoutMs: () => r.pick<unknown>([0, 1000, junk(r)]),
    retry: () => r.pick<unknown>([0, 1, junk(r)]),
    params: () => r.pick<unknown>([['i32'], ['i32', 'i32'], junk(r)]),
    args: () => r.pick<unknown>([['a'], junk(r)]),
    stdin: () => r.pick<unknown>(['in', junk(r)]),
  };
  for (const key of Object.keys(values)) if (r.int(3) === 0) options[key] = values[key]!();
  return options;
}

/** Exports that loop, or grow memory for long, on any input: not useful to fuzz. */
const SLOW = new Set(['endless_loop', 'work', 'memory_bomb', 'repeat']);

async function settle(call: () => unknown): Promise<{ ok: true } | { ok: false; error: unknown }> {
  try {
    await call();
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

describe(`bridge fuzz (FUZZ_SEED=${SEED})`, () => {
  it('mutated binaries load and run, or fail with documented codes', async () => {
    const r = seededRandom(SEED);
    const binaries = fixtureBinaries();
    const mutants: Mutant[] = Array.from({ length: 150 }, () => {
      const { name, bytes } = r.pick(binaries);
      const mutant = mutate(r, bytes);
      return {
        bytes: mutant.bytes,
        how: `${name}: ${mutant.how}`,
        pick: r.int(1000),
        input: r.pick([
          { data: { args: 'x' } },
          { bytes: r.bytes(16) },
          { image: gradient(2, 2), width: 2, height: 2 },
        ]),
      };
    });
    const { reports, hangs } = await runMutants(mutants);
    const failures = reports
      .filter((m) => m.ok === false && !(m.wasmtube && m.code && DOCUMENTED.has(m.code)))
      .map((m) => `#${m.i} (${mutants[m.i]!.how}) ${m.stage}: ${m.code} ${m.text}`);
    // A hang while loading is the library's unless the bytes are a valid module (whose start
    // function may loop); a hang in a call is the mutated guest looping.
    for (const h of hangs) {
      if (
        h.stage === 'sent' &&
        !WebAssembly.validate(mutants[h.i]!.bytes as Uint8Array<ArrayBuffer>)
      ) {
        failures.push(`#${h.i} (${mutants[h.i]!.how}) hung while loading invalid bytes`);
      }
    }
    expect(failures, `FUZZ_SEED=${SEED}:\n${failures.join('\n')}`).toEqual([]);
    // The mutants really ran: most were loaded or refused, and some got as far as a call.
    expect(reports.filter((m) => m.stage === 'load').length).toBeGreaterThan(100);
    expect(reports.filter((m) => m.stage === 'call').length).toBeGreaterThan(10);
  }, 60_000);

  it('random names, inputs and options to the in-process bridge', async () => {
    const r = seededRandom(SEED + 1);
    const bridge = Wasmtube.fromFile(WASM_TEST, { maxMemoryMb: 64 });
    const names = [
      ...bridge
        .exports()
        .map((e) => e.name)
        .filter((n) => !SLOW.has(n)),
      'nope',
      '',
      '__proto__',
    ];
    const failures: string[] = [];
    let succeeded = 0;
    for (let i = 0; i < 400; i++) {
      const name = r.int(10) === 0 ? junk(r) : r.pick(names);
      const input = randomInput(r);
      const options = randomOptions(r);
      const method = r.pick(['callFunction', 'callFunctionSync', 'call', 'invoke', 'run'] as const);
      const args =
        method === 'call' ? r.pick<unknown>([[1, 2], [], junk(r), [junk(r), junk(r)]]) : input;
      const outcome = await settle(() => {
        const b = bridge as unknown as Record<string, (...a: unknown[]) => unknown>;
        if (method === 'invoke')
          return b.invoke!(name, (input as { bytes?: unknown })?.bytes ?? junk(r));
        if (method === 'run') return b.run!(options);
        return b[method]!(name, args, options);
      });
      const why = outcome.ok ? null : judge(outcome.error);
      if (why)
        failures.push(`#${i} ${method}(${show(name)}, ${show(args)}, ${show(options)}): ${why}`);
    }
    expect(failures, `FUZZ_SEED=${SEED}:\n${failures.join('\n')}`).toEqual([]);
    expect(await bridge.callFunction('echo', { data: 'healthy' })).toBe('healthy');
  }, 30_000);

  describe('a Worker', () => {
    let worker: Worker;
    beforeAll(async () => {
      worker = await Worker.start({
        wasmFile: WASM_TEST,
        threads: 1,
        timeoutMs: 1000,
        maxMemoryMb: 64,
      });
    });
    afterAll(() => worker.stop({ timeoutMs: 1000 }));

    it('random names, inputs and options; it still answers afterwards', async () => {
      const r = seededRandom(SEED + 2);
      const names = [
        ...worker
          .exports()
          .map((e) => e.name)
          .filter((n) => !SLOW.has(n)),
        'nope',
        '',
      ];
      const failures: string[] = [];
      let succeeded = 0;
      for (let i = 0; i < 200; i++) {
        const name = r.int(10) === 0 ? junk(r) : r.pick(names);
        const input = randomInput(r);
        const options = randomOptions(r);
        const method = r.pick(['callFunction', 'call', 'run'] as const);
        const args =
          method === 'call' ? r.pick<unknown>([[1, 2], [], junk(r), [junk(r), junk(r)]]) : input;
        const outcome = await settle(() => {
          const w = worker as unknown as Record<string, (...a: unknown[]) => unknown>;
          if (method === 'run') return w.run!(options);
          return w[method]!(name, args, options);
        });
        const why = outcome.ok ? null : judge(outcome.error);
        if (why)
          failures.push(`#${i} ${method}(${show(name)}, ${show(args)}, ${show(options)}): ${why}`);
      }
      expect(failures, `FUZZ_SEED=${SEED}:\n${failures.join('\n')}`).toEqual([]);
      expect(await worker.callFunction('echo', { data: 'healthy' })).toBe('healthy');
    }, 30_000);
  });
});
