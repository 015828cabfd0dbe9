import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wasmtube, WasmtubeError, WasmCompileError } from '../dist/index.js';
import { WASM_TEST, fixture, throwsWithCode, wasmTestBytes } from './helpers.js';

describe('loading a module', () => {
  it('fromFile and fromBinary return a ready bridge synchronously', async () => {
    const fromFile = Wasmtube.fromFile(WASM_TEST);
    const fromBinary = Wasmtube.fromBinary(wasmTestBytes());
    expect(fromFile).toBeInstanceOf(Wasmtube);
    expect(fromBinary).toBeInstanceOf(Wasmtube);
    expect(await fromBinary.callFunction('echo', { data: { args: 'hi' } })).toEqual({ args: 'hi' });
  });

  it('lists exported functions with their signatures', () => {
    const exports = Wasmtube.fromFile(WASM_TEST).exports();
    expect(exports).toContainEqual(
      expect.objectContaining({ name: 'echo', type: '(i32, i32) -> i32' }),
    );
    expect(exports).toContainEqual(
      expect.objectContaining({ name: 'image_size', type: '(i32, i32, i32, i32) -> i32' }),
    );
  });

  it('a missing file is ERR_WASM_FILE_NOT_FOUND', () => {
    const error = throwsWithCode(
      () => Wasmtube.fromFile('/nonexistent/dir/nothing.wasm'),
      'ERR_WASM_FILE_NOT_FOUND',
    );
    expect(error.details.path).toBe('/nonexistent/dir/nothing.wasm');
  });

  it('a directory is ERR_WASM_FILE_READ', () => {
    throwsWithCode(() => Wasmtube.fromFile(tmpdir()), 'ERR_WASM_FILE_READ');
  });

  it('bytes that are not wasm are ERR_WASM_COMPILE', () => {
    const error = throwsWithCode(
      () => Wasmtube.fromBinary(Buffer.from('<html>Not Found</html>')),
      'ERR_WASM_COMPILE',
    );
    expect(error).toBeInstanceOf(WasmCompileError);
    expect(error).toBeInstanceOf(WasmtubeError);
  });

  it('a truncated module is ERR_WASM_COMPILE, also from a file', () => {
    const bytes = wasmTestBytes();
    throwsWithCode(
      () => Wasmtube.fromBinary(bytes.subarray(0, bytes.length / 2)),
      'ERR_WASM_COMPILE',
    );
    const dir = mkdtempSync(join(tmpdir(), 'wasmtube-'));
    writeFileSync(join(dir, 'half.wasm'), bytes.subarray(0, 100));
    throwsWithCode(() => Wasmtube.fromFile(join(dir, 'half.wasm')), 'ERR_WASM_COMPILE');
  });

  it('a module without exported memory is ERR_MEMORY_NOT_EXPORTED', () => {
    throwsWithCode(() => Wasmtube.fromFile(fixture('no_memory')), 'ERR_MEMORY_NOT_EXPORTED');
  });

  it('an import nobody provides is ERR_WASM_INSTANTIATE naming it; providing it works', async () => {
    const error = throwsWithCode(
      () => Wasmtube.fromFile(fixture('needs_import')),
      'ERR_WASM_INSTANTIATE',
    );
    expect(error.message).toContain('env.host_log');
    const logged: number[] = [];
    const bridge = Wasmtube.fromFile(fixture('needs_import'), {
      imports: { env: { host_log: (_ptr: number, len: number) => logged.push(len) } },
    });
    expect(await bridge.callFunction('echo', { data: [1, 2] })).toEqual([1, 2]);
    expect(logged).toEqual([5]);
  });

  it('rejects bad options with ERR_INVALID_ARGUMENT', () => {
    throwsWithCode(() => Wasmtube.fromFile(WASM_TEST, { maxMemoryMb: -1 }), 'ERR_INVALID_ARGUMENT');
    throwsWithCode(
      () => Wasmtube.fromFile(WASM_TEST, { resultHeadroomBytes: 1.5 }),
      'ERR_INVALID_ARGUMENT',
    );
    throwsWithCode(
      () => Wasmtube.fromFile(WASM_TEST, { timeout: 5 } as never),
      'ERR_INVALID_ARGUMENT',
    );
    throwsWithCode(() => Wasmtube.fromBinary('not bytes' as never), 'ERR_INVALID_ARGUMENT');
    throwsWithCode(() => Wasmtube.fromFile(WASM_TEST).index(-1), 'ERR_INVALID_ARGUMENT');
  });

  it("a memory cap below the module's initial memory is ERR_MEMORY_LIMIT", () => {
    // Rust guests start with 17 pages (1 MiB stack + data); 1/16 MiB is one page.
    throwsWithCode(() => Wasmtube.fromFile(WASM_TEST, { maxMemoryMb: 1 / 16 }), 'ERR_MEMORY_LIMIT');
  });
});
