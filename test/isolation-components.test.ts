// isolation: 'call' for WebAssembly components, until they get snapshots: a Worker gives each call
// a fresh instance (as maxCallsPerInstance: 1 does), and an in-process component refuses 'call'
// rather than silently keeping state. docs/isolation.md.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { compileGuest } from '../dist/component/compile-guest.js';
import { DEFAULTS, threadData } from '../dist/supervisor/worker-options.js';
import { startWorker } from './pool-helpers.js';

const CAESAR = fileURLToPath(new URL('../examples/caesar.wasm', import.meta.url));
const CORE_CIPHER = fileURLToPath(new URL('../examples/cipher.wasm', import.meta.url));
const noop = { 'example:cipher/audit-log': { log: () => undefined } };

describe("a component with isolation: 'call'", () => {
  it('in a Worker: every call runs on a fresh instance, and exports() says call', async () => {
    const worker = await startWorker({
      wasmFile: CAESAR,
      threads: 1,
      isolation: 'call',
      wasi: { env: { SHIFT_AMOUNT: '5' } },
      hostFunctions: noop,
    });
    for (let i = 0; i < 5; i++) {
      expect(await worker.call('encrypt', ['hello world'])).toBe('mjqqt btwqi');
    }
    expect(worker.exports().every((e) => e.isolation === 'call')).toBe(true);
    // What the threads are told: replace the instance after every call. (The cipher keeps no
    // state to observe, and a component's call info carries no instance generation yet.)
    const compiled = await compileGuest(readFileSync(CAESAR), { isolation: 'call' });
    const data = threadData({ ...DEFAULTS, wasmFile: CAESAR }, undefined, compiled, 0);
    expect(data.recycle.maxCallsPerInstance).toBe(1);
    const core = await compileGuest(readFileSync(CORE_CIPHER), { isolation: 'call' });
    expect(
      threadData({ ...DEFAULTS, wasmFile: CORE_CIPHER }, undefined, core, 0).recycle,
    ).toMatchObject({ maxCallsPerInstance: Infinity }); // a core module is restored instead
  }, 60_000);

  it('in-process: refused with ERR_ISOLATION_UNSUPPORTED, not silently kept', () => {
    expect(() => Wasmtube.fromFile(CAESAR, { isolation: 'call', hostFunctions: noop })).toThrow(
      expect.objectContaining({ code: 'ERR_ISOLATION_UNSUPPORTED' }),
    );
  });
});
