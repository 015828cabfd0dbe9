// WebAssembly components in supervised pools: typed and JSON calls, host interfaces on the main
// thread and per thread, traps, timeouts, and hot reloads between a core module and a component.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture, rejectsWithCode } from './helpers.js';
import { eventually, nextEvent, startWorker } from './pool-helpers.js';

const CAESAR = fileURLToPath(new URL('../examples/caesar.wasm', import.meta.url));
const CORE_CIPHER = fileURLToPath(new URL('../examples/cipher.wasm', import.meta.url));
const FAULTS = fixture('component_faults');
const AUDIT_LOG_MODULE = fileURLToPath(new URL('./fixtures/hosts/audit-log.mjs', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wasmtube-components-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the cipher component in a Worker', () => {
  it('runs typed and JSON calls; audit-log runs on the main thread, async allowed', async () => {
    const logged: string[] = [];
    const worker = await startWorker({
      wasmFile: CAESAR,
      wasi: { env: { SHIFT_AMOUNT: '5' } },
      hostFunctions: {
        'example:cipher/audit-log': {
          log: async (message: string) => {
            await new Promise((resolve) => setTimeout(resolve, 1));
            logged.push(message);
          },
        },
      },
    });
    expect(await worker.call('encrypt', ['hello world'])).toBe('mjqqt btwqi');
    expect(await worker.callFunction('decrypt', { data: { message: 'mjqqt btwqi' } })).toBe(
      'hello world',
    );
    expect(logged).toEqual([
      'encrypt: 11 characters with shift 5: hello world',
      'decrypt: 11 characters with shift 5: mjqqt btwqi',
    ]);
    expect(worker.exports().map((e) => `${e.name}: ${e.type}`)).toEqual([
      'encrypt: func(message: string) -> string',
      'decrypt: func(message: string) -> string',
    ]);
    await rejectsWithCode(worker.call('encrypt', [1]), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(worker.call('encrypt', []), 'ERR_EXPORT_SIGNATURE');
    expect(logged).toHaveLength(2);
  });

  it('audit-log from hostModule runs in each thread; the default shift is 3', async () => {
    const file = join(dir, 'audit.log');
    writeFileSync(file, '');
    process.env.AUDIT_LOG_FILE = file;
    try {
      const worker = await startWorker({
        wasmFile: CAESAR,
        wasi: {},
        hostModule: AUDIT_LOG_MODULE,
      });
      const replies = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          worker.callFunctionWithInfo('encrypt', { data: { message: `abc ${i}` } }),
        ),
      );
      expect(replies.map((r) => r.result)).toEqual(Array.from({ length: 8 }, (_, i) => `def ${i}`));
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(8);
      replies.forEach(({ info }, i) =>
        expect(lines).toContain(`${info.threadId}\tencrypt: 5 characters with shift 3: abc ${i}`),
      );
    } finally {
      delete process.env.AUDIT_LOG_FILE;
    }
  });

  it('a Worker refuses garbage with a component preamble', async () => {
    const garbage = Buffer.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 0xff]);
    await rejectsWithCode(startWorker({ wasmBinary: garbage }), 'ERR_WASM_COMPILE');
  });

  it('a Worker refuses to start a component with an ungranted import', async () => {
    const error = await rejectsWithCode(startWorker({ wasmFile: CAESAR }), 'ERR_WASM_INSTANTIATE');
    expect(error.details.missing).toEqual(expect.arrayContaining(['example:cipher/audit-log.log']));
  });
});

describe('faulty components in a Worker', () => {
  it('a trap replaces the instance, and the thread serves the next call', async () => {
    const worker = await startWorker({ wasmFile: FAULTS, threads: 1 });
    expect(await worker.call('count')).toBe(1);
    await rejectsWithCode(worker.call('trap'), 'ERR_GUEST_TRAP');
    const { result, info } = await worker.callFunctionWithInfo('count', { data: {} });
    expect(result).toBe(1);
    expect(info.threadId).toBeGreaterThan(0);
  });

  it('an endless loop times out, its thread is replaced, and calls go on', async () => {
    const worker = await startWorker({ wasmFile: FAULTS, threads: 1 });
    const before = await worker.callFunctionWithInfo('count', { data: null });
    await rejectsWithCode(worker.call('spin', [], { timeoutMs: 300 }), 'ERR_CALL_TIMEOUT');
    const after = await worker.callFunctionWithInfo('count', { data: null }, { timeoutMs: 10_000 });
    expect(after.result).toBe(1);
    expect(after.info.threadId).not.toBe(before.info.threadId);
    await eventually(() => worker.stats().restarts >= 1, 'the restart to be counted');
  });
});

describe('hot reload between a core module and a component', () => {
  it('core → component → core: each version serves its own calls', async () => {
    const wasmFile = join(dir, 'cipher.wasm');
    writeFileSync(wasmFile, readFileSync(CORE_CIPHER));
    const logged: string[] = [];
    const worker = await startWorker({
      wasmFile,
      watch: false,
      wasi: { env: { SHIFT: '5', SHIFT_AMOUNT: '5' } },
      hostFunctions: {
        // The core module's and the component's host functions, side by side.
        wasmtube: { log: { params: ['string'], fn: (m: string) => void logged.push(m) } },
        'example:cipher/audit-log': { log: (m: string) => void logged.push(m) },
      },
    });
    expect(await worker.callFunction('encrypt', { data: { text: 'hello world' } })).toEqual({
      shift: 5,
      text: 'mjqqt btwqi',
    });
    const toComponent = await worker.reload(readFileSync(CAESAR));
    expect(toComponent).toMatchObject({ from: 0, to: 1 });
    expect(worker.exports()[0]).toMatchObject({ name: 'encrypt', convention: 'component' });
    expect(await worker.callFunction('encrypt', { data: { message: 'hello world' } })).toBe(
      'mjqqt btwqi',
    );
    expect(logged).toContain('encrypt: 11 characters with shift 5: hello world');
    await worker.reload(readFileSync(CORE_CIPHER));
    expect(worker.version).toBe(2);
    expect(await worker.callFunction('decrypt', { data: { text: 'mjqqt btwqi' } })).toEqual({
      shift: 5,
      text: 'hello world',
    });
    expect(worker.stats().failed).toBe(0);
  });

  it('a component version failing clearly more than its predecessor is rolled back', async () => {
    const worker = await startWorker({
      wasmFile: CAESAR,
      threads: 1,
      wasi: {},
      hostFunctions: { 'example:cipher/audit-log': { log: () => undefined } },
      rollback: { minCalls: 3, minUptimeMs: 60_000 },
    });
    expect(await worker.call('encrypt', ['abc'])).toBe('def');
    await worker.reload(readFileSync(fixture('component_broken_cipher')));
    const rollback = nextEvent<{ from: number; to: number }>(worker, 'rollback');
    for (let i = 0; i < 3; i++) {
      await rejectsWithCode(worker.call('encrypt', ['abc']), 'ERR_GUEST_TRAP');
    }
    expect(await rollback).toEqual(expect.objectContaining({ from: 1, to: 2 }));
    await eventually(() => worker.version === 2, 'the rollback to take traffic');
    expect(await worker.call('encrypt', ['abc'])).toBe('def');
  });

  it('a reload to a component lacking a served function is rejected', async () => {
    const worker = await startWorker({
      wasmFile: CAESAR,
      wasi: {},
      hostFunctions: {
        'example:cipher/audit-log': { log: () => undefined },
      },
    });
    await rejectsWithCode(worker.reload(readFileSync(FAULTS)), 'ERR_RELOAD_REJECTED');
    expect(await worker.call('encrypt', ['a'])).toBe('d');
  });
});
