import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';
import { expectedGray, gradient, pngOf, WASM_TEST } from './helpers.js';

const example = (name: string) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
let dir: string;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));
const temp = () => (dir = mkdtempSync(join(tmpdir(), 'wasmtube-cli-')));

/** The code on stderr: `wasmtube: <CODE>: <message>`. */
const errorCode = (stderr: string) => /^wasmtube: (ERR_[A-Z_]+): /m.exec(stderr)?.[1];

describe('wasmtube call', () => {
  it('prints the JSON result of --data, --data-file and stdin', async () => {
    const data = await runCli(['call', WASM_TEST, 'echo', '--data', '{"a":[1,2]}']);
    expect(data).toMatchObject({ code: 0, stderr: '' });
    expect(data.stdout.toString()).toBe('{"a":[1,2]}\n');

    const file = join(temp(), 'input.json');
    writeFileSync(file, JSON.stringify({ text: 'hi', times: 3 }));
    const fromFile = await runCli(['call', WASM_TEST, 'repeat', '--data-file', file, '--pretty']);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout.toString())).toBe('hihihi');

    const stdin = await runCli(['call', WASM_TEST, 'echo', '--data-file', '-'], {
      input: '[true]',
    });
    expect(stdin.stdout.toString()).toBe('[true]\n');
    const none = await runCli(['call', WASM_TEST, 'echo']);
    expect(none.stdout.toString()).toBe('null\n');
  });

  it('--image with --out writes the result image in the format of its extension', async () => {
    const input = join(temp(), 'in.png');
    writeFileSync(input, await pngOf(20, 10));
    const out = join(dir, 'out.png');
    const result = await runCli([
      'call',
      example('filters.wasm'),
      'grayscale',
      '--image',
      input,
      '--out',
      out,
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { data, info } = await sharp(readFileSync(out))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.format, info.width, info.height]).toEqual(['raw', 20, 10]);
    expect(data.equals(expectedGray(gradient(20, 10)))).toBe(true);

    const size = await runCli(['call', WASM_TEST, 'image_size', '--image', input]);
    expect(JSON.parse(size.stdout.toString())).toEqual({ width: 20, height: 10 });

    const raw = join(dir, 'in.rgb');
    writeFileSync(raw, gradient(4, 3));
    const rgb = await runCli([
      'call',
      WASM_TEST,
      'image_size',
      '--image',
      raw,
      '--width',
      '4',
      '--height',
      '3',
    ]);
    expect(JSON.parse(rgb.stdout.toString())).toEqual({ width: 4, height: 3 });
  });

  it('a WASI module gets its sidecar settings (env, host functions); --env overrides them', async () => {
    const sidecar = await runCli([
      'call',
      example('cipher.wasm'),
      'encrypt',
      '--data',
      '{"text":"abc"}',
    ]);
    expect(JSON.parse(sidecar.stdout.toString())).toEqual({ text: 'fgh', shift: 5 });
    // The guest's audit line, through the granted wasmtube.log.
    expect(sidecar.stderr).toContain('wasmtube.log: encrypt: 3 characters, shift 5');
    const env = await runCli([
      'call',
      example('cipher.wasm'),
      'encrypt',
      '--data',
      '{"text":"abc"}',
      '--env',
      'SHIFT=1',
    ]);
    expect(JSON.parse(env.stdout.toString())).toEqual({ text: 'bcd', shift: 1 });
    const config = join(temp(), 'grant-only.json');
    writeFileSync(config, JSON.stringify({ hostFunctions: ['wasmtube.log'] }));
    const defaults = await runCli([
      'call',
      example('cipher.wasm'),
      'encrypt',
      '--data',
      '{"text":"abc"}',
      '--config',
      config,
    ]);
    expect(JSON.parse(defaults.stdout.toString())).toEqual({ text: 'def', shift: 3 });
    // Without the sidecar nothing is granted: the module does not load.
    const none = await runCli(['call', example('cipher.wasm'), 'encrypt', '--no-config']);
    expect([none.code, errorCode(none.stderr)]).toEqual([3, 'ERR_WASM_INSTANTIATE']);
  });

  it('a failed call exits 1 with its code on stderr', async () => {
    const trap = await runCli(['call', WASM_TEST, 'trap']);
    expect(trap.code).toBe(1);
    expect(errorCode(trap.stderr)).toBe('ERR_GUEST_TRAP');
    expect(trap.stdout.length).toBe(0);
    const timeout = await runCli(['call', WASM_TEST, 'endless_loop', '--timeout-ms', '200']);
    expect(timeout.code).toBe(1);
    expect(errorCode(timeout.stderr)).toBe('ERR_CALL_TIMEOUT');
    const missing = await runCli(['call', WASM_TEST, 'nope']);
    expect([missing.code, errorCode(missing.stderr)]).toEqual([1, 'ERR_EXPORT_NOT_FOUND']);
  });

  it('usage errors exit 2: bad JSON, unknown option, missing argument, two inputs, binary to a terminal', async () => {
    for (const args of [
      ['call', WASM_TEST, 'echo', '--data', '{nope'],
      ['call', WASM_TEST, 'echo', '--colour'],
      ['call', WASM_TEST],
      ['call', WASM_TEST, 'echo', '--data', '1', '--data-file', 'x.json'],
      ['call', WASM_TEST, 'echo', '--returns', 'bytes'],
      ['call', WASM_TEST, 'echo', '--width', '0'],
      ['frobnicate'],
      [],
    ]) {
      const result = await runCli(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).not.toBe('');
    }
  });

  it('unusable files exit 3: no module, not a module, unreadable input', async () => {
    const notWasm = join(temp(), 'x.wasm');
    writeFileSync(notWasm, 'hello');
    for (const [args, code] of [
      [['call', join(dir, 'missing.wasm'), 'echo'], 'ERR_WASM_FILE_NOT_FOUND'],
      [['call', notWasm, 'echo'], 'ERR_WASM_COMPILE'],
      [['call', WASM_TEST, 'echo', '--data-file', join(dir, 'missing.json')], 'ERR_INPUT_FILE'],
      [['call', WASM_TEST, 'echo', '--config', join(dir, 'missing.json')], 'ERR_INPUT_FILE'],
    ] as const) {
      const result = await runCli([...args]);
      expect([result.code, errorCode(result.stderr)]).toEqual([3, code]);
    }
  });

  it('--help and --version exit 0', async () => {
    const help = await runCli(['call', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toContain('--data-file');
    const root = await runCli(['--help']);
    expect(root.stdout.toString()).toContain('Exit codes');
    const version = await runCli(['--version']);
    expect(version.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
