// The admin commands against a real `wasmtube serve` process, over real HTTP on 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runCli, startCliServer } from './cli-helpers.js';
import { versionGuest } from './guests.js';
import { WASM_TEST } from './helpers.js';
import { callJson, send, tempFolder, until } from './server-helpers.js';

const followers = new Set<ChildProcess>();
afterEach(() => {
  for (const child of followers) child.kill('SIGKILL');
  followers.clear();
});

/** A long-running CLI command (`logs -f`, `top`) whose output is watched as it comes. */
function follow(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  followers.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor: (pattern: RegExp, what: string) =>
      until(
        async () => pattern.test(stdout),
        `${what}; stdout so far: ${stdout}; stderr: ${stderr}`,
        15_000,
      ),
  };
}

const errorCode = (stderr: string) => /^wasmtube: (ERR_[A-Z_]+): /m.exec(stderr)?.[1];

async function serveFolder(env: Record<string, string> = {}) {
  const dir = tempFolder();
  copyFileSync(WASM_TEST, join(dir, 'guest.wasm'));
  const server = await startCliServer([dir, '--port', '0', '--threads', '1'], env);
  return { dir, server, url: ['--url', server.url] };
}

describe('admin commands against a running wasmtube serve', () => {
  it('ls lists the modules with state, version and threads', async () => {
    const { url } = await serveFolder();
    const ls = await runCli(['ls', ...url]);
    expect(ls.code, ls.stderr).toBe(0);
    const row = ls.stdout
      .toString()
      .split('\n')
      .find((line) => line.startsWith('guest'));
    expect(row).toMatch(/^guest\s+serving\s+v1\s+[0-9a-f]{12}\s+1\/1\/\d/);
    const json = JSON.parse((await runCli(['ls', '--json', ...url])).stdout.toString());
    expect(json.modules.map((m: { name: string }) => m.name)).toEqual(['guest']);
  });

  it('deploy uploads a module that then serves; again, it hot-reloads; the file is in the folder', async () => {
    const { dir, server, url } = await serveFolder();
    const file = join(tempFolder(), 'versions.wasm');
    writeFileSync(file, versionGuest(1));
    const sidecar = join(tempFolder(), 'settings.json');
    writeFileSync(sidecar, JSON.stringify({ threads: 2, timeoutMs: 5000 }));
    const first = await runCli(['deploy', file, '--name', 'v', '--sidecar', sidecar, ...url]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.toString()).toMatch(/^deployed v v1 /);
    expect((await callJson(server, 'v', 'which')).body).toEqual({ v: 1 });
    // Written into the folder as a file copy would be, sidecar included.
    expect(readFileSync(join(dir, 'v.wasm')).equals(versionGuest(1))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'v.json'), 'utf8'))).toEqual({
      threads: 2,
      timeoutMs: 5000,
    });
    const status = (await send(`${server.url}/functions/v`)).body;
    expect(status.threads.target).toBe(2);

    writeFileSync(file, versionGuest(2));
    const second = await runCli(['deploy', file, '--name', 'v', ...url]);
    expect(second.stdout.toString()).toMatch(/^deployed v v2 /);
    expect((await callJson(server, 'v', 'which')).body).toEqual({ v: 2 });
  });

  it('deploy refuses what is not a module, and a build the running version rejects', async () => {
    const { dir, url } = await serveFolder();
    const notWasm = join(tempFolder(), 'x.wasm');
    writeFileSync(notWasm, 'not a module');
    const bad = await runCli(['deploy', notWasm, ...url]);
    expect([bad.code, errorCode(bad.stderr)]).toEqual([3, 'ERR_WASM_COMPILE']);
    expect(existsSync(join(dir, 'x.wasm'))).toBe(false);
    // A build without the functions the running version exports: version 1 keeps serving.
    const lacking = join(tempFolder(), 'guest.wasm');
    writeFileSync(lacking, versionGuest(1));
    const rejected = await runCli(['deploy', lacking, ...url]);
    expect([rejected.code, errorCode(rejected.stderr)]).toEqual([1, 'ERR_RELOAD_REJECTED']);
    expect(rejected.stderr).toContain('Version 1 keeps serving');
  });

  it('reload starts the module again as the next version; undeploy removes it', async () => {
    const { dir, server, url } = await serveFolder();
    const reload = await runCli(['reload', 'guest', ...url]);
    expect(reload.code, reload.stderr).toBe(0);
    expect(reload.stdout.toString()).toBe('reloaded guest: now v2\n');
    expect((await callJson(server, 'guest', 'echo', 1)).headers.get('x-wasmtube-version')).toBe(
      '2',
    );

    const missing = await runCli(['reload', 'nope', ...url]);
    expect([missing.code, errorCode(missing.stderr)]).toEqual([1, 'ERR_MODULE_NOT_FOUND']);

    const undeploy = await runCli(['undeploy', 'guest', ...url]);
    expect(undeploy.code, undeploy.stderr).toBe(0);
    expect(existsSync(join(dir, 'guest.wasm'))).toBe(false);
    expect((await callJson(server, 'guest', 'echo', 1)).status).toBe(404);
  });

  it('logs prints recent lines; logs -f --module follows new ones until interrupted', async () => {
    const { dir, url } = await serveFolder();
    const logs = await runCli(['logs', ...url]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout.toString()).toMatch(/INFO\s+guest\s+deployed\s+version=1/);

    const following = follow(['logs', '-f', '--module', 'other', ...url]);
    // New content until a line shows up: the first may come before the command has connected.
    let version = 0;
    await until(
      async () => {
        if (/other\s+(deployed|reloaded)\s+version=\d/.test(following.stdout())) return true;
        writeFileSync(join(dir, 'other.wasm'), versionGuest(++version));
        await new Promise((resolve) => setTimeout(resolve, 300));
        return false;
      },
      'a deploy of "other" to be followed',
      15_000,
    );
    // Lines about other modules are not shown.
    expect(following.stdout()).not.toMatch(/\bguest\b/);
    following.child.kill('SIGINT');
    expect(await following.exited).toBe(0);
  });

  it('top shows the modules and redraws as a deploy happens', async () => {
    const { dir, url } = await serveFolder();
    const top = follow(['top', ...url]);
    await top.waitFor(/guest\s+serving\s+v1/, 'the first frame');
    writeFileSync(join(dir, 'other.wasm'), versionGuest(1));
    await top.waitFor(/other\s+serving\s+v1/, 'a frame with the new module');
    top.child.kill('SIGINT');
    expect(await top.exited).toBe(0);
  });

  it('with a token: WASMTUBE_TOKEN is sent; without it the commands say so (exit 1)', async () => {
    const { url } = await serveFolder({ WASMTUBE_TOKEN: 'sesame' });
    const refused = await runCli(['ls', ...url], { env: { WASMTUBE_TOKEN: '' } });
    expect([refused.code, errorCode(refused.stderr)]).toEqual([1, 'ERR_UNAUTHORIZED']);
    expect(refused.stderr).toContain('WASMTUBE_TOKEN');
    const ok = await runCli(['reload', 'guest', ...url], { env: { WASMTUBE_TOKEN: 'sesame' } });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('serve --pretty prints readable lines; --log-file keeps the JSON lines', async () => {
    const dir = tempFolder();
    copyFileSync(WASM_TEST, join(dir, 'guest.wasm'));
    const logFile = join(tempFolder(), 'gateway.log');
    const serve = follow(['serve', dir, '--port', '0', '--pretty', '--log-file', logFile]);
    await serve.waitFor(/wasmtube gateway listening at http/, 'the listening line');
    expect(serve.stdout()).toMatch(/^\d\d:\d\d:\d\d INFO\s+guest\s+deployed\s+version=1/m);
    expect(serve.stdout()).not.toContain('{"level"');
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    const lines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.find((l) => l.msg === 'deployed')).toMatchObject({ module: 'guest', version: 1 });
    expect(lines.at(-1).msg).toBe('shut down');
  });

  it('no gateway at --url: exit 4 with one line', async () => {
    const result = await runCli(['ls', '--url', 'http://127.0.0.1:9']);
    expect([result.code, errorCode(result.stderr)]).toEqual([4, 'ERR_GATEWAY_UNREACHABLE']);
  });
});
