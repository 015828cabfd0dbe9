// The package as a user gets it: `npm pack`, install the tarball into a new project, then use it
// from there (ESM, CommonJS, types, the CLI on the shipped examples). It packs with
// --ignore-scripts and so relies on the dist/ that `pretest` built (`prepack` builds on a real
// `npm pack`). The install takes the dependencies from npm's cache when it can; when neither the
// cache nor the registry can provide them, the tests are skipped with a notice, except under
// CI=true, where that fails.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const CI = process.env.CI === 'true';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never rejects (the exit code is in the result). */
function run(file: string, args: string[], cwd: string, limitMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd, timeout: limitMs, maxBuffer: 16 << 20, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
const npm = (args: string[], cwd: string) => run('npm', args, cwd);
const node = (args: string[], cwd: string) => run(process.execPath, args, cwd);

/** npm's ways of saying it could reach neither the registry nor a cached copy. */
const UNREACHABLE = /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|network/i;

let dir: string;
let project: string;
let files: string[] = [];
let install: Run & { ms: number };
let unavailable: string | undefined;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (or `npm test`, which builds first)');
  }
  dir = mkdtempSync(join(tmpdir(), 'wasmtube-package-'));
  const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
  if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  const [summary] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  files = summary!.files.map((f) => f.path);

  project = join(dir, 'app');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', private: true }, null, 2),
  );
  const started = performance.now();
  const installed = await npm(
    ['install', join(dir, summary!.filename), '--no-audit', '--no-fund', '--prefer-offline'],
    project,
  );
  install = { ...installed, ms: performance.now() - started };
  if (install.code !== 0) {
    if (!CI && UNREACHABLE.test(install.stderr)) {
      unavailable = 'npm could reach neither the registry nor its cache';
      console.warn(`package.test.ts: skipped, ${unavailable}`);
      return;
    }
    throw new Error(`npm install of the tarball failed:\n${install.stderr}`);
  }
}, 180_000);

afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

/** Skips the test when the install could not happen (never under CI). */
const needsInstall = (ctx: TestContext) => unavailable !== undefined && ctx.skip();

describe('the packed tarball', () => {
  it('holds the build, the licence and the example guests, and no source maps', () => {
    for (const path of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/server/index.js',
      'dist/cluster/index.js',
      'dist/cli/main.js',
      'LICENSE',
      'README.md',
      'CHANGELOG.md',
      'examples/echo.wasm',
      'examples/cipher.wasm',
      'examples/cipher.json',
      'examples/filters.wasm',
      'examples/guests/echo/src/lib.rs',
    ]) {
      expect(files).toContain(path);
    }
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => /^(test|bench|src|scripts)\//.test(f))).toEqual([]);
  });

  it('every relative link in its README and docs points at a file it ships', () => {
    const broken: string[] = [];
    for (const doc of files.filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:|^#/.test(target!)) continue; // absolute URL or an anchor in the page
        const path = posix.normalize(posix.join(posix.dirname(doc), target!.split('#')[0]!));
        const shipped = files.some(
          (f) => f === path || f.startsWith(`${path.replace(/\/$/, '')}/`),
        );
        if (!shipped) broken.push(`${doc}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('installed into a new project', () => {
  it('installs on Node 20 with no engine warning', (ctx) => {
    needsInstall(ctx);
    console.info(`package.test.ts: npm install of the tarball took ${Math.round(install.ms)} ms`);
    // A dependency's `overrides` do not reach the projects installing it: the direct dependency on
    // light-my-request 6.6.0 does, since npm satisfies fastify's `^6` with it (6.8 needs cookie@2,
    // which requires Node 22).
    const packages = [...install.stderr.matchAll(/EBADENGINE +package: '([^']+)'/g)].map(
      (m) => m[1],
    );
    expect(packages).toEqual([]);
  });

  it('imports as ESM', async (ctx) => {
    needsInstall(ctx);
    writeFileSync(
      join(project, 'esm.mjs'),
      `import { Wasmtube, Worker, WasmtubeError } from 'wasmtube';
import { serve, createGateway } from 'wasmtube/server';
import pkg from 'wasmtube/package.json' with { type: 'json' };
const bridge = Wasmtube.fromFile('node_modules/wasmtube/examples/echo.wasm');
const result = await bridge.callFunction('echo', { data: { a: 1 } });
console.log(JSON.stringify({ result, types: [typeof Worker, typeof WasmtubeError, typeof serve, typeof createGateway], name: pkg.name }));
`,
    );
    const esm = await node(['esm.mjs'], project);
    expect(esm).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(esm.stdout)).toEqual({
      result: { a: 1 },
      types: ['function', 'function', 'function', 'function'],
      name: 'wasmtube',
    });
  });

  it('loads with require() (Node ≥ 20.19 loads the ES module synchronously)', async (ctx) => {
    needsInstall(ctx);
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const { Wasmtube } = require('wasmtube');
const { serve } = require('wasmtube/server');
const bridge = Wasmtube.fromFile('node_modules/wasmtube/examples/echo.wasm');
bridge.callFunction('hello', { data: { name: 'Ada' } }).then((result) =>
  console.log(JSON.stringify({ result, serve: typeof serve })),
);
`,
    );
    const cjs = await node(['cjs.cjs'], project);
    expect(cjs.code).toBe(0);
    // Node 20 may warn that require() of an ES module is experimental; nothing else.
    expect(cjs.stderr.replace(/.*ExperimentalWarning.*\n|.*--trace-warnings.*\n/g, '')).toBe('');
    expect(JSON.parse(cjs.stdout)).toEqual({
      result: { message: 'Hello, Ada!' },
      serve: 'function',
    });
  });

  it('type-checks a TypeScript user, ESM and CommonJS', async (ctx) => {
    needsInstall(ctx);
    const use = `
const bridge: Wasmtube = Wasmtube.fromFile('guest.wasm', { maxMemoryMb: 64 });
const pending: Promise<unknown> = bridge.callFunction('echo', { data: { a: 1 } });
const started: Promise<Worker> = Worker.start({ wasmFile: 'guest.wasm', threads: 1 });
const gateway: ReturnType<typeof serve> = serve({ dir: 'functions', port: 0 });
// @ts-expect-error a path, not a number (fails if the types resolved to any)
Wasmtube.fromFile(42);
export { pending, started, gateway };
`;
    writeFileSync(
      join(project, 'use.mts'),
      `import { Wasmtube, Worker } from 'wasmtube';\nimport { serve } from 'wasmtube/server';\n${use}`,
    );
    writeFileSync(
      join(project, 'use.cts'),
      `import { Wasmtube, Worker } from 'wasmtube';\nimport { serve } from 'wasmtube/server';\n${use}`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['use.mts', 'use.cts'],
      }),
    );
    const tsc = await node([TSC, '-p', 'tsconfig.json'], project);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('`npx wasmtube call` runs a shipped example', async (ctx) => {
    needsInstall(ctx);
    const call = await run(
      'npx',
      [
        '--no-install',
        'wasmtube',
        'call',
        'node_modules/wasmtube/examples/echo.wasm',
        'echo',
        '--data',
        '{"a":1}',
      ],
      project,
    );
    expect(call).toMatchObject({ code: 0, stdout: '{"a":1}\n' });
    // The cipher example reads its sidecar (SHIFT=5) from beside it in the package.
    const cipher = await run(
      'npx',
      [
        '--no-install',
        'wasmtube',
        'call',
        'node_modules/wasmtube/examples/cipher.wasm',
        'encrypt',
        '--data',
        '{"text":"abc"}',
      ],
      project,
    );
    expect(cipher.code).toBe(0);
    expect(JSON.parse(cipher.stdout)).toEqual({ shift: 5, text: 'fgh' });
  });

  // `wasmtube new <name> --lang rust` makes <name>/ with a build.sh that builds <name>/<name>.wasm
  // with Debian's Rust (outside CI, skipped with a notice when it is not installed).
  it('`wasmtube new`, then build, then call', async (ctx) => {
    needsInstall(ctx);
    if (!CI && !existsSync('/usr/bin/cargo')) {
      console.log('skipped: apt-get install rustc cargo libstd-rust-dev-wasm32 lld-14 to run it');
      return ctx.skip('no Rust toolchain (/usr/bin/cargo) to build a new guest');
    }
    const made = await run(
      'npx',
      ['--no-install', 'wasmtube', 'new', 'hello-guest', '--lang', 'rust'],
      project,
    );
    expect(made).toMatchObject({ code: 0 });
    const guest = join(project, 'hello-guest');
    const built = await run('bash', ['build.sh'], guest, 300_000);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    const wasm = join(guest, 'hello-guest.wasm');
    const inspected = await run(
      'npx',
      ['--no-install', 'wasmtube', 'inspect', '--json', wasm],
      project,
    );
    const [fn] = (JSON.parse(inspected.stdout) as { functions: { name: string }[] }).functions;
    const call = await run(
      'npx',
      ['--no-install', 'wasmtube', 'call', wasm, fn!.name, '--data', '{"name":"Ada"}'],
      project,
    );
    expect(call).toMatchObject({ code: 0, stderr: '' });
    expect(() => JSON.parse(call.stdout) as unknown).not.toThrow();
  }, 360_000);
});
