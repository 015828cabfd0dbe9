// The command line as a new user first meets it: each case here failed on the main branch of
// issue 16 (a stack trace with exit 70, a silent raw-bytes file, commander's "error:", a taken
// port found only after every module was deployed).
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
  copyFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';
import { WASM_TEST } from './helpers.js';

const example = (name: string) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
const temp = () => (dir = mkdtempSync(join(tmpdir(), 'wasmtube-surprise-')));

/** stderr must be exactly one line: `wasmtube: <CODE>: <message>`; returns the code. */
function oneLineError(stderr: string): string | undefined {
  expect(stderr.trimEnd().split('\n'), stderr).toHaveLength(1);
  return /^wasmtube: (ERR_[A-Z_]+): \S/.exec(stderr)?.[1];
}

describe('never surprise: wasmtube call', () => {
  it('a file that is not a module, or a truncated one, exits 3 with one line', async () => {
    const truncated = join(temp(), 'truncated.wasm');
    writeFileSync(truncated, readFileSync(example('echo.wasm')).subarray(0, 100));
    for (const file of [README, truncated]) {
      const result = await runCli(['call', file, 'echo']);
      expect({ file, code: result.code }).toEqual({ file, code: 3 });
      expect(oneLineError(result.stderr)).toBe('ERR_WASM_COMPILE');
    }
    const inspect = await runCli(['inspect', truncated]);
    expect([inspect.code, oneLineError(inspect.stderr)]).toEqual([3, 'ERR_WASM_COMPILE']);
  });

  it('--out with an extension it cannot write is a usage error naming those it can', async () => {
    const out = join(temp(), 'x.gif');
    const result = await runCli([
      'call',
      example('filters.wasm'),
      'grayscale',
      '--image',
      example('cat.png'),
      '--out',
      out,
    ]);
    expect(result.code).toBe(2);
    expect(oneLineError(result.stderr)).toBe('ERR_INVALID_ARGUMENT');
    for (const extension of ['.png', '.jpg', '.webp', '.json', '.bin']) {
      expect(result.stderr).toContain(extension);
    }
    expect(existsSync(out)).toBe(false);
    // An explicit --returns writes any name.
    const bytes = await runCli([
      'call',
      example('filters.wasm'),
      'grayscale',
      '--image',
      example('cat.png'),
      '--returns',
      'png',
      '--out',
      out,
    ]);
    expect(bytes.code, bytes.stderr).toBe(0);
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
  });

  it('usage errors print wasmtube: ERR_INVALID_ARGUMENT: ..., not commander\'s "error:"', async () => {
    for (const args of [
      ['call', WASM_TEST, 'echo', '--colour'],
      ['call', WASM_TEST],
      ['serve', '.', '--port', 'abc'],
      ['frobnicate'],
    ]) {
      const result = await runCli(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).not.toMatch(/^error:/m);
      expect(oneLineError(result.stderr)).toBe('ERR_INVALID_ARGUMENT');
      expect(result.stderr).toContain('--help');
    }
  });

  it('a result that is not JSON names the flag that fixes it, and quotes no bytes', async () => {
    const result = await runCli(['call', WASM_TEST, 'garbage_output', '--data', '1']);
    expect(result.code).toBe(1);
    expect(oneLineError(result.stderr)).toBe('ERR_RESULT_DECODE');
    expect(result.stderr).toContain('--returns bytes');
    expect(result.stderr).not.toContain("returns: 'bytes'");
    expect(result.stderr).not.toMatch(/\\x[0-9a-f]{2}/);
  });
});

describe('never surprise: wasmtube serve', () => {
  it('a taken port exits 4 naming --port, before deploying any module', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    const folder = temp();
    copyFileSync(WASM_TEST, join(folder, 'guest.wasm'));
    try {
      const result = await runCli(['serve', folder, '--port', String(port)]);
      expect(result.code).toBe(4);
      expect(oneLineError(result.stderr)).toBe('ERR_LISTEN_FAILED');
      expect(result.stderr).toContain('--port');
      // Nothing was deployed: no "deployed" log line came out.
      expect(result.stdout.toString()).not.toContain('"deployed"');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
