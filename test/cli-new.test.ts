import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli, startCliServer } from './cli-helpers.js';
import { callJson, expectError } from './server-helpers.js';

// Each template is generated, built with its own build script and called with `wasmtube call`
// and `wasmtube serve`, as a user would. Builds are offline: cargo from Debian with its vendored
// crates, and the repository's own AssemblyScript compiler and npm wabt (no `npm install`).

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'wasmtube-cli-new-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CARGO = '/usr/bin/cargo';
const haveCargo = existsSync(CARGO);
if (!haveCargo && process.env.CI !== 'true') {
  console.warn(
    `cli-new: skipping the Rust templates: no ${CARGO} ` +
      '(apt-get install rustc cargo libstd-rust-dev-wasm32 lld-14 librust-serde-json-dev)',
  );
}

/** The code on stderr: `wasmtube: <CODE>: <message>`. */
const errorCode = (stderr: string) => /^wasmtube: (ERR_[A-Z_]+): /m.exec(stderr)?.[1];

interface Case {
  lang: string;
  abi: string;
  /** [function, JSON input, expected result] */
  calls: [string, unknown, unknown][];
  /** A call the guest refuses: [function, JSON input, error code]. */
  refused?: [string, unknown, string];
  /** An image function that inverts every channel. */
  invert?: string;
}

const CASES: Case[] = [
  {
    lang: 'wat',
    abi: 'wasmtube',
    calls: [
      ['echo', { a: 1 }, { a: 1 }],
      ['wrap', { a: 1 }, [{ a: 1 }]],
    ],
    invert: 'invert',
  },
  {
    lang: 'wat',
    abi: 'alloc',
    calls: [
      ['echo', { a: 1 }, { a: 1 }],
      ['wrap', 'x', ['x']],
    ],
    refused: ['wrap', [1], 'ERR_GUEST_ERROR'],
  },
  {
    lang: 'wat',
    abi: 'wapc',
    calls: [
      ['echo', { a: 1 }, { a: 1 }],
      ['wrap', { a: 1 }, [{ a: 1 }]],
    ],
    refused: ['nope', 1, 'ERR_GUEST_ERROR'],
  },
  {
    lang: 'assemblyscript',
    abi: 'alloc',
    calls: [
      ['greet', 'Ada', { message: 'Hello, Ada!' }],
      ['sum', [1, 2, 3.5], 6.5],
    ],
    refused: ['sum', 'x', 'ERR_GUEST_ERROR'],
  },
  // Rust last: they build while the others run, one after the other so that the second reuses
  // the first one's compiled dependencies (a shared CARGO_TARGET_DIR).
  {
    lang: 'rust',
    abi: 'wasmtube',
    calls: [
      ['hello', { name: 'Ada' }, { message: 'Hello, Ada!' }],
      ['sum', { numbers: [1, 2, 3.5] }, { sum: 6.5, count: 3 }],
      // The Wasmtube ABI has no error channel: the guest kit answers `{"error": ...}`.
      [
        'sum',
        { numbers: 'x' },
        { error: expect.stringMatching(/not the JSON this function takes/) },
      ],
    ],
    invert: 'invert',
  },
  {
    lang: 'rust',
    abi: 'alloc',
    calls: [
      ['hello', {}, { message: 'Hello, World!' }],
      ['divide', { a: 1, b: 4 }, { quotient: 0.25 }],
    ],
    refused: ['divide', { a: 1, b: 0 }, 'ERR_GUEST_ERROR'],
  },
  {
    lang: 'rust',
    abi: 'component',
    calls: [
      ['distance', { a: { x: 0, y: 0 }, b: { x: 3, y: 4 } }, 5],
      ['divide', { a: 7, b: 2 }, 3],
    ],
    refused: ['divide', { a: 7, b: 0 }, 'ERR_GUEST_ERROR'],
  },
];

const nameOf = (c: Case) => `${c.lang}_${c.abi}`;

/** Runs `wasmtube new` and the project's build.sh; resolves with the project folder. */
async function generateAndBuild(c: Case): Promise<string> {
  const dir = join(root, nameOf(c));
  // Not runCli: its afterEach would kill a build still running for a later test.
  await run(process.execPath, [CLI, 'new', dir, '--lang', c.lang, '--abi', c.abi]);
  await run('bash', [join(dir, 'build.sh')], {
    env: {
      ...process.env,
      ASC: join(repo, 'node_modules/.bin/asc'),
      WAT2WASM: join(repo, 'node_modules/.bin/wat2wasm'),
      CARGO_TARGET_DIR: join(root, 'cargo-target'),
      // The component template's build runs `wasmtube componentize`: this checkout's CLI.
      WASMTUBE: `${process.execPath} ${CLI}`,
    },
    timeout: 120_000,
  });
  return dir;
}

// Started at once: the Rust builds run while the other templates are tested.
const built = new Map<Case, Promise<string>>();
let rustChain: Promise<unknown> = Promise.resolve();
for (const c of CASES) {
  if (c.lang === 'rust') {
    if (!haveCargo && process.env.CI !== 'true') continue;
    const next = rustChain.then(() => generateAndBuild(c));
    rustChain = next.catch(() => undefined);
    built.set(c, next);
  } else {
    built.set(c, generateAndBuild(c));
  }
}
// Failures are reported by the test that awaits them.
for (const promise of built.values()) promise.catch(() => undefined);

describe('wasmtube new', () => {
  for (const c of CASES) {
    const skip = c.lang === 'rust' && !haveCargo && process.env.CI !== 'true';
    it.skipIf(skip)(
      `--lang ${c.lang} --abi ${c.abi}: builds as generated, runs with call and serve`,
      async () => {
        const dir = await built.get(c)!;
        const name = nameOf(c);
        const wasm = join(dir, `${name}.wasm`);
        expect(existsSync(join(dir, 'README.md'))).toBe(true);
        expect(JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'))).toBeTypeOf('object');

        for (const [fn, input, expected] of c.calls) {
          const result = await runCli(['call', wasm, fn, '--data', JSON.stringify(input)]);
          expect(result, `${fn}: ${result.stderr}`).toMatchObject({ code: 0, stderr: '' });
          expect(JSON.parse(result.stdout.toString())).toEqual(expected);
        }
        if (c.refused) {
          const [fn, input, code] = c.refused;
          const result = await runCli(['call', wasm, fn, '--data', JSON.stringify(input)]);
          expect(result.code).toBe(1);
          expect(errorCode(result.stderr)).toBe(code);
        }
        if (c.invert) {
          const pixels = Buffer.from([0, 16, 32, 200, 255, 1]);
          writeFileSync(join(root, `${name}.rgb`), pixels);
          const out = join(root, `${name}-out.rgb`);
          const result = await runCli([
            'call',
            wasm,
            c.invert,
            '--image',
            join(root, `${name}.rgb`),
            '--width',
            '2',
            '--height',
            '1',
            '--out',
            out,
          ]);
          expect(result, result.stderr).toMatchObject({ code: 0 });
          expect([...readFileSync(out)]).toEqual([...pixels].map((b) => 255 - b));
        }

        // The project folder is a deploy folder: <name>.wasm with its sidecar <name>.json.
        const server = await startCliServer([dir, '--port', '0']);
        const [fn, input, expected] = c.calls[0]!;
        const answer = await callJson(server, name, fn, input);
        expect(answer.status).toBe(200);
        expect(answer.body).toEqual(expected);
        if (c.refused && c.refused[2] === 'ERR_GUEST_ERROR') {
          const [badFn, badInput, code] = c.refused;
          expectError(await callJson(server, name, badFn, badInput), 500, code);
        }
        server.child.kill('SIGTERM');
        expect(await server.exited).toBe(0);
      },
      150_000,
    );
  }

  it('refuses a folder that is not empty (exit 5), and a file', async () => {
    const full = join(root, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    const result = await runCli(['new', full, '--lang', 'wat']);
    expect(result.code).toBe(5);
    expect(errorCode(result.stderr)).toBe('ERR_TARGET_NOT_EMPTY');
    expect(readFileSync(join(full, 'keep.txt'), 'utf8')).toBe('mine');

    const file = join(root, 'afile');
    writeFileSync(file, 'mine');
    const onFile = await runCli(['new', file, '--lang', 'wat']);
    expect(onFile.code).toBe(5);
    expect(errorCode(onFile.stderr)).toBe('ERR_TARGET_NOT_EMPTY');
  });

  it('an empty folder that exists is used; --name names the module', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const result = await runCli(['new', empty, '--lang', 'wat', '--abi', 'wapc', '--name', 'm1']);
    expect(result.code).toBe(0);
    expect(existsSync(join(empty, 'm1.wat'))).toBe(true);
    expect(existsSync(join(empty, 'm1.json'))).toBe(true);
    expect(existsSync(join(empty, '.gitignore'))).toBe(true);
  });

  it('refuses an unknown language or ABI, or an unsupported combination (exit 2)', async () => {
    for (const args of [
      ['--lang', 'go'],
      ['--lang', 'wat', '--abi', 'component'],
      ['--lang', 'assemblyscript', '--abi', 'wasmtube'],
      ['--lang', 'rust', '--abi', 'wapc'],
    ]) {
      const dir = join(root, 'refused');
      const result = await runCli(['new', dir, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(errorCode(result.stderr)).toBe('ERR_TEMPLATE_UNSUPPORTED');
      expect(result.stderr).toContain('rust-wasmtube');
      expect(existsSync(dir)).toBe(false);
    }
    const badName = await runCli(['new', join(root, '1st'), '--lang', 'wat']);
    expect(badName.code).toBe(2);
    expect(errorCode(badName.stderr)).toBe('ERR_INVALID_ARGUMENT');
    expect((await runCli(['new', join(root, 'nolang')])).code).toBe(2);
  });
});
