// WebAssembly components in-process: the cipher example (examples/components/caesar), and the
// test components of test/components/ built into test/fixtures/component_*.wasm.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Wasmtube, compileGuest, compileModule } from '../dist/index.js';
import { fixture, rejectsWithCode, throwsWithCode } from './helpers.js';

const CAESAR = fileURLToPath(new URL('../examples/caesar.wasm', import.meta.url));
const FAULTS = fixture('component_faults');
const NEEDS_SECRET = fixture('component_needs_secret');
const WASI_PROBE = fixture('component_wasi_probe');
const FILE_PROBE = fixture('component_file_probe');

/** Grants the cipher's audit-log, recording what it logs. */
function auditLog(logged: string[]) {
  return { 'example:cipher/audit-log': { log: (message: string) => void logged.push(message) } };
}

describe('the cipher component, in-process', () => {
  it('encrypts with the default shift of 3 when the environment has no SHIFT_AMOUNT', async () => {
    const logged: string[] = [];
    const cipher = await Wasmtube.load(CAESAR, { wasi: {}, hostFunctions: auditLog(logged) });
    expect(await cipher.call('encrypt', ['hello world'])).toBe('khoor zruog');
    expect(await cipher.call('decrypt', ['khoor zruog'])).toBe('hello world');
    expect(logged).toEqual([
      'encrypt: 11 characters with shift 3: hello world',
      'decrypt: 11 characters with shift 3: khoor zruog',
    ]);
  });

  it('reads SHIFT_AMOUNT from the wasi env option, and maps JSON parameters by WIT name', async () => {
    const logged: string[] = [];
    const cipher = await Wasmtube.load(readFileSync(CAESAR), {
      wasi: { env: { SHIFT_AMOUNT: '5' } },
      // The version suffix is optional; `{ fn }` works as for core modules.
      hostFunctions: {
        'example:cipher/audit-log@0.1.0': { log: { fn: (m: string) => void logged.push(m) } },
      },
    });
    expect(await cipher.callFunction('encrypt', { data: { message: 'hello world' } })).toBe(
      'mjqqt btwqi',
    );
    const bytes = await cipher.callFunction(
      'decrypt',
      { data: { message: 'mjqqt btwqi' } },
      { returns: 'bytes' },
    );
    expect(bytes.toString()).toBe('"hello world"');
    expect(logged[0]).toContain('shift 5');
  });

  it('fromFile returns at once; calls wait for the load, and exports() lists WIT types', async () => {
    const cipher = Wasmtube.fromFile(CAESAR, { wasi: {}, hostFunctions: auditLog([]) });
    // Before the load: what needs the instance says so.
    throwsWithCode(() => cipher.exports(), 'ERR_INVALID_ARGUMENT');
    const pending = cipher.call('encrypt', ['abc']);
    await cipher.ready;
    expect(await pending).toBe('def');
    expect(cipher.exports()).toEqual([
      {
        name: 'encrypt',
        convention: 'component',
        signature: undefined,
        type: 'func(message: string) -> string',
        isolation: 'instance',
      },
      {
        name: 'decrypt',
        convention: 'component',
        signature: undefined,
        type: 'func(message: string) -> string',
        isolation: 'instance',
      },
    ]);
  });

  it('refuses wrong arity and types before the guest runs', async () => {
    const logged: string[] = [];
    const cipher = await Wasmtube.load(CAESAR, { wasi: {}, hostFunctions: auditLog(logged) });
    await rejectsWithCode(cipher.call('encrypt', []), 'ERR_EXPORT_SIGNATURE');
    await rejectsWithCode(cipher.call('encrypt', ['a', 'b']), 'ERR_EXPORT_SIGNATURE');
    const typed = await rejectsWithCode(cipher.call('encrypt', [42]), 'ERR_INVALID_ARGUMENT');
    expect(typed.details).toMatchObject({ path: 'message', type: 'string' });
    const named = await rejectsWithCode(
      cipher.callFunction('encrypt', { data: { msg: 'x' } }),
      'ERR_EXPORT_SIGNATURE',
    );
    expect(named.details).toMatchObject({ missing: ['message'], unknown: ['msg'] });
    await rejectsWithCode(cipher.callFunction('encrypt', { data: 'x' }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(cipher.call('nope', []), 'ERR_EXPORT_NOT_FOUND');
    expect(logged).toEqual([]); // the guest never ran
    expect(await cipher.call('encrypt', ['ok'])).toBe('rn');
  });

  it('fails with ERR_WASM_INSTANTIATE listing every import not granted', async () => {
    const none = await rejectsWithCode(Wasmtube.load(CAESAR), 'ERR_WASM_INSTANTIATE');
    expect(none.details.missing).toEqual([
      'example:cipher/audit-log.log',
      'wasi:cli/environment@0.2.0.get-environment',
    ]);
    const noLog = await rejectsWithCode(
      Wasmtube.load(CAESAR, { wasi: {} }),
      'ERR_WASM_INSTANTIATE',
    );
    expect(noLog.details.missing).toEqual(['example:cipher/audit-log.log']);
    // A bridge made by fromFile reports it on ready and on every call.
    const bridge = Wasmtube.fromFile(CAESAR);
    await rejectsWithCode(bridge.ready, 'ERR_WASM_INSTANTIATE');
    await rejectsWithCode(bridge.call('encrypt', ['x']), 'ERR_WASM_INSTANTIATE');
    throwsWithCode(() => bridge.exports(), 'ERR_WASM_INSTANTIATE');
  });

  it('an in-process host function must be synchronous', async () => {
    const cipher = await Wasmtube.load(CAESAR, {
      wasi: {},
      hostFunctions: { 'example:cipher/audit-log': { log: async () => undefined } },
    });
    await rejectsWithCode(cipher.call('encrypt', ['x']), 'ERR_HOST_FUNCTION');
    expect(cipher.instanceGeneration).toBe(2); // replaced
  });
});

describe('faulty components', () => {
  it('a trapped instance is replaced, and the next call is served by a fresh one', async () => {
    const faults = await Wasmtube.load(FAULTS);
    expect(await faults.call('count')).toBe(1);
    expect(await faults.call('count')).toBe(2);
    await rejectsWithCode(faults.call('trap'), 'ERR_GUEST_TRAP');
    expect(faults.instanceGeneration).toBe(2);
    expect(await faults.call('count')).toBe(1); // state started over
  });

  it('the memory cap applies to the component core module', async () => {
    const faults = await Wasmtube.load(FAULTS, { maxMemoryMb: 1 });
    expect(await faults.callFunction('grow', { data: { pages: 15 } })).toBe(16);
    // 16 pages is the cap: the guest's memory.grow fails, and it traps.
    await rejectsWithCode(faults.call('grow', [1]), 'ERR_GUEST_TRAP');
    const uncapped = await Wasmtube.load(FAULTS);
    expect(await uncapped.call('grow', [16])).toBe(17);
  });

  it('garbage with a component preamble is ERR_WASM_COMPILE', async () => {
    const garbage = Buffer.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 0xff, 0xff, 0xff]);
    await rejectsWithCode(Wasmtube.load(garbage), 'ERR_WASM_COMPILE');
    await rejectsWithCode(compileGuest(garbage), 'ERR_WASM_COMPILE');
    // compileModule is synchronous, for core modules; it says what to use for a component.
    throwsWithCode(() => compileModule(readFileSync(CAESAR)), 'ERR_WASM_COMPILE');
  });

  it('an ungranted interface fails instantiation; granted, it is called', async () => {
    const error = await rejectsWithCode(Wasmtube.load(NEEDS_SECRET), 'ERR_WASM_INSTANTIATE');
    expect(error.details.missing).toEqual(['test:faults/secret.get']);
    const granted = await Wasmtube.load(NEEDS_SECRET, {
      hostFunctions: { 'test:faults/secret': { get: () => 42 } },
    });
    expect(await granted.call('peek')).toBe(42);
  });
});

describe('WASI preview 2 for components', () => {
  it('grants nothing of this process: no environment variables, no directories', async () => {
    process.env.WASMTUBE_TEST_SECRET = 'do not leak';
    try {
      const probe = await Wasmtube.load(WASI_PROBE, { wasi: {} });
      expect(await probe.call('env-count')).toBe(0);
      expect(await probe.call('dir-count')).toBe(0);
    } finally {
      delete process.env.WASMTUBE_TEST_SECRET;
    }
  });

  it('sees exactly the environment the wasi option grants', async () => {
    const probe = await Wasmtube.load(WASI_PROBE, { wasi: { env: { A: '1', B: '2' } } });
    expect(await probe.call('env-count')).toBe(2);
  });

  it('without the wasi option WASI is not granted', async () => {
    const error = await rejectsWithCode(Wasmtube.load(WASI_PROBE), 'ERR_WASM_INSTANTIATE');
    expect(error.details.missing).toEqual(
      expect.arrayContaining(['wasi:cli/environment@0.2.0.get-environment']),
    );
  });
});

describe('files, only through preopened directories', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wasmtube-component-files-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'hello.txt'), 'hello from the host');
    writeFileSync(join(dir, 'secret.txt'), 'outside the preopen');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const text = (bytes: unknown) => Buffer.from(bytes as Uint8Array).toString();

  it('with no preopen, every file access is refused', async () => {
    const files = await Wasmtube.load(FILE_PROBE, { wasi: {} });
    const error = await rejectsWithCode(files.call('read-file', ['hello.txt']), 'ERR_GUEST_ERROR');
    expect(error.details.value).toBe('access');
  });

  it('reads and writes inside the preopened directory', async () => {
    const files = await Wasmtube.load(FILE_PROBE, {
      wasi: { preopens: { '/data': join(dir, 'data') } },
    });
    expect(text(await files.call('read-file', ['hello.txt']))).toBe('hello from the host');
    expect(
      await files.callFunction('write-file', { data: { path: 'out.txt', content: [104, 105] } }),
    ).toBeNull();
    expect(readFileSync(join(dir, 'data', 'out.txt'), 'utf8')).toBe('hi');
    const missing = await rejectsWithCode(files.call('read-file', ['nope.txt']), 'ERR_GUEST_ERROR');
    expect(missing.details.value).toBe('no-entry');
  });

  it('refuses paths and links leading out of the preopen', async () => {
    symlinkSync(join(dir, 'secret.txt'), join(dir, 'data', 'link.txt'));
    const files = await Wasmtube.load(FILE_PROBE, {
      wasi: { preopens: { '/data': join(dir, 'data') } },
    });
    for (const path of [
      '../secret.txt',
      join(dir, 'secret.txt'),
      'link.txt',
      'a/../../secret.txt',
    ]) {
      const error = await rejectsWithCode(files.call('read-file', [path]), 'ERR_GUEST_ERROR');
      expect(error.details.value, path).toBe('not-permitted');
    }
    const write = await rejectsWithCode(
      files.call('write-file', ['../escaped.txt', new Uint8Array([1])]),
      'ERR_GUEST_ERROR',
    );
    expect(write.details.value).toBe('not-permitted');
    expect(existsSync(join(dir, 'escaped.txt'))).toBe(false);
  });

  it('a preopen that is no directory is ERR_INVALID_ARGUMENT', async () => {
    await rejectsWithCode(
      Wasmtube.load(FILE_PROBE, { wasi: { preopens: { '/data': join(dir, 'nope') } } }),
      'ERR_INVALID_ARGUMENT',
    );
  });
});

describe('compiling a component', () => {
  it('transpiles once per content: the same bytes give the same compiled parts', async () => {
    const bytes = readFileSync(CAESAR);
    const first = await compileGuest(bytes);
    const again = await compileGuest(Buffer.from(bytes));
    expect(again.component).toBe(first.component);
    expect(Object.values(first.component!.coreModules)[0]).toBeInstanceOf(WebAssembly.Module);
    // A different memory cap is a different compilation.
    expect((await compileGuest(bytes, { maxMemoryMb: 8 })).component).not.toBe(first.component);
  });

  it("reads jco's JCO_DEBUG switch once, when the glue is evaluated, not on every call", async () => {
    const { component } = await compileGuest(readFileSync(CAESAR));
    const reads = component!.glue.match(/process\?\.env\?\.JCO_DEBUG/g) ?? [];
    expect(reads).toHaveLength(1);
    expect(component!.glue).toMatch(/^\(function \(\) \{\n"use strict";\nconst jcoDebug = /);
  });
});

describe('loading wasmtube', () => {
  it('does not load jco until a component is compiled (it compiles megabytes of wasm)', () => {
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.js'),
    );
    const staticImports = files.filter((f) =>
      /^import .* from '@bytecodealliance\//m.test(readFileSync(join(dist, f), 'utf8')),
    );
    expect(staticImports).toEqual([]);
  });
});
