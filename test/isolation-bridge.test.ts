// isolation: 'call' in one in-process bridge: every call starts from the ready state, after
// successes, traps and memory growth; 'instance' keeps state. Guests: the WAT probe
// (test/fixtures/wat/isolation_probe.wat) and the Rust static-mut guest (test/isolation_test).
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Wasmtube, type Isolation } from '../dist/index.js';
import { compileModule } from '../dist/bridge/compiled-module.js';
import { fixture } from './helpers.js';

const PROBE = fixture('isolation_probe');
const RUST = fixture('isolation_test');
const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

function bytesCall(bridge: Wasmtube, fn: string, payload: string | Buffer): Buffer {
  return bridge.callFunctionSync<Buffer>(fn, { bytes: Buffer.from(payload) }, { returns: 'bytes' });
}

function trapCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe.each([
  ['WAT probe', PROBE],
  ['Rust static mut', RUST],
])('%s guest', (_name, file) => {
  it("with 'call', remember never returns an earlier call's payload", () => {
    const bridge = Wasmtube.fromFile(file, { isolation: 'call' });
    for (let i = 0; i < 200; i++) {
      expect(bytesCall(bridge, 'remember', `SECRET-${i}`).length).toBe(0);
    }
    // Restored, not re-instantiated: only a guest that grows memory on every call (Rust's
    // dlmalloc does, one page) gets a new instance, each time its growth passes the bound.
    expect(bridge.instanceGeneration).toBeLessThanOrEqual(file === RUST ? 3 : 1);
  });

  it("with 'instance', remember returns the previous payload (state kept)", () => {
    const bridge = Wasmtube.fromFile(file, { isolation: 'instance' });
    expect(bytesCall(bridge, 'remember', 'first').length).toBe(0);
    expect(bytesCall(bridge, 'remember', 'second').toString()).toBe('first');
    expect(bytesCall(bridge, 'remember', 'third').toString()).toBe('second');
  });

  it("with 'call', a trap after keeping data leaves nothing for the next call, without a new instance", () => {
    const bridge = Wasmtube.fromFile(file, { isolation: 'call' });
    expect(trapCode(() => bytesCall(bridge, 'trap_after_keeping', 'SECRET-trap'))).toBe(
      'ERR_GUEST_TRAP',
    );
    expect(bytesCall(bridge, 'remember', 'after').length).toBe(0);
    expect(bridge.instanceGeneration).toBe(1);
  });

  it("with 'call', a call that grew memory leaves nothing for the next call", () => {
    const bridge = Wasmtube.fromFile(file, { isolation: 'call' });
    const before = bridge.memoryBytes;
    expect(bytesCall(bridge, 'grow', 'SECRET-grown').length).toBe(0);
    expect(bridge.memoryBytes).toBeGreaterThan(before);
    expect(bytesCall(bridge, 'grow', 'SECRET-again').length).toBe(0);
    expect(bytesCall(bridge, 'remember', 'x').length).toBe(0);
  });

  it("with 'instance', grow finds what the previous grow kept", () => {
    const bridge = Wasmtube.fromFile(file, { isolation: 'instance' });
    expect(bytesCall(bridge, 'grow', 'SECRET-g1').length).toBe(0);
    expect(bytesCall(bridge, 'grow', 'SECRET-g2').toString()).toBe('SECRET-g1');
  });

  it("with 'call', a guest growing memory on every call grows into the same pages again", () => {
    const bridge = Wasmtube.fromFile(file, { isolation: 'call' });
    bytesCall(bridge, 'grow', 'SECRET-first');
    const after = bridge.memoryBytes;
    for (let i = 0; i < 100; i++) {
      expect(bytesCall(bridge, 'grow', `SECRET-${i}`).length).toBe(0);
    }
    // memory.size/memory.grow see a page count the restore resets: no page is grown twice.
    expect(bridge.memoryBytes).toBe(after);
    expect(bridge.instanceGeneration).toBe(1);
  });

  it('exports() shows the isolation mode of every function', () => {
    for (const isolation of ['instance', 'call'] as Isolation[]) {
      const bridge = Wasmtube.fromFile(file, { isolation });
      expect(bridge.isolation).toBe(isolation);
      const exports = bridge.exports();
      expect(exports.length).toBeGreaterThan(2);
      for (const entry of exports) expect(entry.isolation).toBe(isolation);
      // The reserved exports of the rewrite are globals, never listed as functions.
      expect(exports.some((e) => e.name.startsWith('__wasmtube_global_'))).toBe(false);
    }
  });
});

describe('the WAT probe scanning all of memory', () => {
  it("with 'call', no trace of any earlier payload is left anywhere in memory", () => {
    const bridge = Wasmtube.fromFile(PROBE, { isolation: 'call' });
    const marker = 'ZQXW';
    bytesCall(bridge, 'remember', `${marker}-static`);
    bytesCall(bridge, 'grow', `${marker}-grown`);
    expect(trapCode(() => bytesCall(bridge, 'trap_after_keeping', `${marker}-trap`))).toBe(
      'ERR_GUEST_TRAP',
    );
    bytesCall(bridge, 'remember', `${marker}-${'long'.repeat(400)}`);
    expect(bytesCall(bridge, 'scan', marker).readUInt32LE(0)).toBe(0);
  });

  it("with 'instance', the scan finds the payloads kept", () => {
    const bridge = Wasmtube.fromFile(PROBE, { isolation: 'instance' });
    bytesCall(bridge, 'remember', 'ZQXW-static');
    bytesCall(bridge, 'grow', 'ZQXW-grown');
    expect(bytesCall(bridge, 'scan', 'ZQXW').readUInt32LE(0)).toBeGreaterThan(0);
  });

  it("with 'call', a non-exported mutable global counter restarts on every call", () => {
    const call = Wasmtube.fromFile(PROBE, { isolation: 'call' });
    const instance = Wasmtube.fromFile(PROBE);
    for (let i = 1; i <= 5; i++) {
      expect(bytesCall(call, 'calls', 'xxxx').readUInt32LE(0)).toBe(1);
      expect(bytesCall(instance, 'calls', 'xxxx').readUInt32LE(0)).toBe(i);
    }
  });

  it('payloads at an explicit .index(n) inside guest memory are restored too', () => {
    const bridge = Wasmtube.fromFile(PROBE, { isolation: 'call' });
    const at = bridge.index(20_000);
    expect(bytesCall(at, 'remember', 'ZQXW-indexed').length).toBe(0);
    expect(bytesCall(bridge, 'scan', 'ZQXW').readUInt32LE(0)).toBe(0);
  });
});

describe('memory a call grew past the bound', () => {
  it("is given back by replacing the instance, with 'call'", () => {
    const bridge = Wasmtube.fromFile(fixture('wasm_test'), { isolation: 'call', maxMemoryMb: 128 });
    const ready = bridge.memoryBytes;
    expect(() => bridge.callFunctionSync('memory_bomb', { data: {} })).toThrow(
      expect.objectContaining({ code: 'ERR_MEMORY_LIMIT' }),
    );
    expect(bridge.instanceGeneration).toBe(2);
    expect(bridge.memoryBytes).toBe(ready);
    expect(bridge.callFunctionSync('count', { data: {} })).toEqual({ count: 1 });
  });
});

describe('isolation options', () => {
  it('the default is instance', () => {
    expect(Wasmtube.fromFile(PROBE).isolation).toBe('instance');
  });

  it('an unknown mode is ERR_INVALID_ARGUMENT', () => {
    expect(() => Wasmtube.fromFile(PROBE, { isolation: 'request' as Isolation })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('a module with shared memory cannot be isolated per call: ERR_ISOLATION_UNSUPPORTED', () => {
    // (module (memory (export "memory") 1 1 shared)), assembled by hand.
    const shared = Uint8Array.from([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x04, 0x01, 0x03, 0x01, 0x01, 0x07,
      0x0a, 0x01, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00,
    ]);
    expect(() => Wasmtube.fromBinary(shared, { isolation: 'call' })).toThrow(
      expect.objectContaining({ code: 'ERR_ISOLATION_UNSUPPORTED' }),
    );
  });

  it('a module with no mutable globals is isolated by its memory alone', () => {
    // (module (memory (export "memory") 1) (func (export "f") (param i32 i32) (result i32) i32.const 0))
    const bytes = readFileSync(fixture('echo_no_alloc'));
    const bridge = Wasmtube.fromBinary(bytes, { isolation: 'call' });
    expect(bridge.isolation).toBe('call');
  });
});

describe("the 'call' rewrite of every committed guest", () => {
  const dir = fixture('x').replace(/x\.wasm$/, '');
  const files = [
    ...readdirSync(dir).map((f) => `${dir}${f}`),
    ...readdirSync(EXAMPLES).map((f) => `${EXAMPLES}${f}`),
  ].filter((f) => f.endsWith('.wasm'));

  it.each(files.map((f) => [basename(f), f]))(
    '%s compiles, or is refused with a typed error',
    (_n, file) => {
      const bytes = readFileSync(file);
      if (!WebAssembly.validate(bytes)) return; // deliberately broken fixtures
      try {
        const compiled = compileModule(bytes, { isolation: 'call' });
        expect(compiled.isolation).toBe('call');
        const exports = WebAssembly.Module.exports(compiled.module).map((e) => e.name);
        for (const name of compiled.snapshotGlobals) expect(exports).toContain(name);
        // The guest's own exports are all still there.
        const original = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map(
          (e) => e.name,
        );
        for (const name of original) expect(exports).toContain(name);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('ERR_ISOLATION_UNSUPPORTED');
      }
    },
  );
});

describe("the 'call' rewrite's shadow stack tracking", () => {
  it.each([
    ['call', false],
    ['instance', true],
  ] as const)(
    "with '%s', a call reading the stack below its frame finds an earlier call's frame: %s",
    (isolation, found) => {
      // The earlier call's frame lies above the low-water mark and within the stack page the
      // mark falls in: the restore compares only that part of the page, and must restore it.
      const bridge = Wasmtube.fromFile(RUST, { isolation });
      const marker = 'STACK-SECRET-'.repeat(8);
      for (let i = 0; i < 3; i++) {
        bytesCall(bridge, 'keep_on_stack', marker);
        const seen = bytesCall(bridge, 'peek_stack', '');
        expect(seen.length).toBe(8192);
        expect(seen.includes(marker)).toBe(found);
        if (!found) expect(seen.every((byte) => byte === 0)).toBe(true);
      }
    },
  );

  it('is found in LLVM-built guests only, and the restore then skips stack pages no frame reached', () => {
    const rust = compileModule(readFileSync(RUST), { isolation: 'call' });
    expect(rust.shadowStack).toMatchObject({ low: 0, top: 1024 * 1024 });
    expect(compileModule(readFileSync(fixture('as_bump')), { isolation: 'call' }).shadowStack).toBe(
      undefined,
    );
    expect(compileModule(readFileSync(PROBE), { isolation: 'call' }).shadowStack).toBe(undefined);
    // A trap deep in the stack (64 frames of 512 bytes) is restored like any call: the pages its
    // frames wrote are above the low-water mark, so they are compared and restored.
    const bridge = Wasmtube.fromFile(RUST, { isolation: 'call' });
    const sp = () => bytesCall(bridge, 'stack_address', '').readUInt32LE(0);
    const before = sp();
    expect(trapCode(() => bytesCall(bridge, 'trap_after_keeping', 'x'.repeat(3000)))).toBe(
      'ERR_GUEST_TRAP',
    );
    expect(sp()).toBe(before);
    expect(bytesCall(bridge, 'remember', 'y').length).toBe(0);
  });
});
