import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';
import { WASM_TEST } from './helpers.js';

const example = (name: string) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('wasmtube inspect', () => {
  it('prints exports with their calling convention, imports and memory limits', async () => {
    const result = await runCli(['inspect', WASM_TEST]);
    expect(result.code).toBe(0);
    const text = result.stdout.toString();
    expect(text).toMatch(/echo\s+\(i32, i32\) -> i32\s+wasmtube-data/);
    expect(text).toMatch(/grayscale\s+\(i32, i32, i32, i32\) -> i32\s+wasmtube-image/);
    expect(text).toMatch(/memory\s+\d+ pages/);
    expect(text).toContain('wasi     no');
  });

  it('--json gives the description, with WASI imports for the cipher', async () => {
    const result = await runCli(['inspect', example('cipher.wasm'), '--json']);
    expect(result.code).toBe(0);
    const description = JSON.parse(result.stdout.toString());
    expect(description).toMatchObject({
      wasi: true,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      memory: { initialPages: expect.any(Number), imported: false },
      functions: expect.arrayContaining([
        { name: 'encrypt', type: '(i32, i32) -> i32', convention: 'wasmtube-data' },
      ]),
    });
    expect(description.imports).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ module: 'wasi_snapshot_preview1', name: 'environ_get' }),
      ]),
    );
  });

  it('exits 3 for a missing file or one that is not a module', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wasmtube-inspect-'));
    writeFileSync(join(dir, 'x.wasm'), '\0asm garbage');
    const missing = await runCli(['inspect', join(dir, 'nope.wasm')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^wasmtube: ERR_WASM_FILE_NOT_FOUND: /);
    const invalid = await runCli(['inspect', join(dir, 'x.wasm')]);
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toMatch(/^wasmtube: ERR_WASM_COMPILE: /);
  });
});
