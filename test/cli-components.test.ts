// `wasmtube inspect` and `wasmtube call` on a WebAssembly component.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';

const CAESAR = fileURLToPath(new URL('../examples/caesar.wasm', import.meta.url));
let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('wasmtube inspect on a component', () => {
  it('prints its WIT functions with their types, its imported interfaces and its world', async () => {
    const result = await runCli(['inspect', CAESAR]);
    expect(result.code).toBe(0);
    const text = result.stdout.toString();
    expect(text).toMatch(/encrypt\s+func\(message: string\) -> string\s+component/);
    expect(text).toContain('wasi     yes (preview 2)');
    expect(text).toMatch(/example:cipher\/audit-log\s+interface/);
    expect(text).toContain('import wasi:cli/environment@0.2.0;');
  });

  it('--json gives the description; garbage with a component preamble exits 3', async () => {
    const json = JSON.parse((await runCli(['inspect', CAESAR, '--json'])).stdout.toString());
    expect(json).toMatchObject({
      wasi: true,
      functions: [
        { name: 'encrypt', type: 'func(message: string) -> string', convention: 'component' },
        { name: 'decrypt', type: 'func(message: string) -> string', convention: 'component' },
      ],
      imports: [
        { module: 'example:cipher/audit-log', name: '*', kind: 'interface' },
        { module: 'wasi:cli/environment@0.2.0', name: '*', kind: 'interface' },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'wasmtube-inspect-'));
    const garbage = join(dir, 'garbage.wasm');
    writeFileSync(garbage, Buffer.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 9, 9, 9]));
    const failed = await runCli(['inspect', garbage]);
    expect(failed.code).toBe(3);
    expect(failed.stderr.toString()).toContain('ERR_WASM_COMPILE');
  });
});

describe('wasmtube call on a component', () => {
  it('maps --data to parameters by name; the sidecar grants audit-log; --env feeds SHIFT_AMOUNT', async () => {
    const plain = await runCli(['call', CAESAR, 'encrypt', '--data', '{"message":"hello world"}']);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout.toString())).toBe('khoor zruog');
    expect(plain.stderr).toContain(
      'wasmtube.log: encrypt: 11 characters with shift 3: hello world',
    );
    const shifted = await runCli([
      'call',
      CAESAR,
      'encrypt',
      '--data',
      '{"message":"abc"}',
      '--env',
      'SHIFT_AMOUNT=1',
    ]);
    expect(JSON.parse(shifted.stdout.toString())).toBe('bcd');
    const wrong = await runCli(['call', CAESAR, 'encrypt', '--data', '{"message":5}']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('ERR_INVALID_ARGUMENT');
  });
});

describe('wasmtube componentize', () => {
  const source = (name: string) => fileURLToPath(new URL(`./components/${name}`, import.meta.url));

  it('builds from .wat and WIT exactly the component build-fixtures makes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wasmtube-componentize-'));
    const out = join(dir, 'faults.wasm');
    const args = ['--wit', source('faults.wit'), '--world', 'faults', '-o', out];
    const result = await runCli(['componentize', source('faults.wat'), ...args]);
    expect(result.code, result.stderr).toBe(0);
    const fixture = fileURLToPath(new URL('./fixtures/component_faults.wasm', import.meta.url));
    expect(readFileSync(out).equals(readFileSync(fixture))).toBe(true);
  });

  it('a module that does not implement the world is ERR_WASM_COMPILE (exit 3)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wasmtube-componentize-'));
    const args = ['--wit', source('faults.wit'), '--world', 'faults', '-o', join(dir, 'x.wasm')];
    const result = await runCli(['componentize', source('needs-secret.wat'), ...args]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('ERR_WASM_COMPILE');
    const missing = await runCli(['componentize', join(dir, 'nope.wasm'), ...args]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('ERR_WASM_FILE_NOT_FOUND');
  });
});
