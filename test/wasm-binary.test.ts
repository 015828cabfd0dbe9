import { describe, expect, it } from 'vitest';
import { compileModule, readModuleInfo } from '../dist/index.js';
import { fixture, wasmTestBytes } from './helpers.js';
import { readFileSync } from 'node:fs';

describe('reading module binaries', () => {
  it('reads export signatures and memory limits of the Rust guest', () => {
    const info = readModuleInfo(wasmTestBytes())!;
    expect(info.imports).toEqual([]);
    expect(info.exports).toContainEqual({
      name: 'echo',
      kind: 'function',
      signature: { params: ['i32', 'i32'], results: ['i32'] },
    });
    expect(info.exports).toContainEqual({ name: 'memory', kind: 'memory' });
    expect(info.memory).toMatchObject({ imported: false, maximumPages: undefined });
  });

  it('reads imports', () => {
    const info = readModuleInfo(readFileSync(fixture('needs_import')))!;
    expect(info.imports).toEqual([
      {
        module: 'env',
        name: 'host_log',
        kind: 'function',
        signature: { params: ['i32', 'i32'], results: [] },
      },
    ]);
  });

  it('caps memory in the compiled module so memory.grow fails past it', () => {
    const compiled = compileModule(wasmTestBytes(), { maxMemoryMb: 2 });
    expect(compiled.maxPages).toBe(32);
    expect(compiled.info?.memory?.maximumPages).toBe(32);
    const instance = new WebAssembly.Instance(compiled.module, {});
    const memory = instance.exports.memory as WebAssembly.Memory;
    const pages = memory.buffer.byteLength / 65536;
    expect(() => memory.grow(32 - pages + 1)).toThrow(RangeError);
    memory.grow(32 - pages);
    expect(memory.buffer.byteLength).toBe(32 * 65536);
  });

  it('keeps a smaller maximum the module already declares', () => {
    const compiled = compileModule(readFileSync(fixture('memory_capped')), { maxMemoryMb: 64 });
    expect(compiled.info?.memory?.maximumPages).toBe(1);
  });

  it('gives up quietly on bytes it cannot read', () => {
    expect(
      readModuleInfo(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 7, 99])),
    ).toBeUndefined();
  });
});
