import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CLI, runCli, startCliServer } from './cli-helpers.js';
import { WASM_TEST } from './helpers.js';
import { callJson, expectError, send, slowCall } from './server-helpers.js';

let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));
function folder(): string {
  dir = mkdtempSync(join(tmpdir(), 'wasmtube-cli-serve-'));
  copyFileSync(WASM_TEST, join(dir, 'guest.wasm'));
  return dir;
}

describe('wasmtube serve', () => {
  it('serves the folder on loopback and logs with pino', async () => {
    const server = await startCliServer([folder(), '--port', '0', '--threads', '1']);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await callJson(server, 'guest', 'echo', { a: 1 })).body).toEqual({ a: 1 });
    expect(server.logs.some((l) => l.msg === 'deployed' && l.module === 'guest')).toBe(true);
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
  });

  it('SIGTERM drains a slow call, then exits 0', async () => {
    const server = await startCliServer([folder(), '--port', '0', '--threads', '1']);
    const { answer } = await slowCall(server, 'guest', { ms: 800 });
    server.child.kill('SIGTERM');
    const slow = await answer;
    expect(slow.status).toBe(200);
    expect(await server.exited).toBe(0);
    expect(server.logs.some((l) => l.msg === 'shut down')).toBe(true);
  });

  it('a SIGTERM that comes while it starts (its first log line) still drains and exits 0', async () => {
    for (const pretty of [[], ['--pretty']]) {
      const child = spawn(process.execPath, [CLI, 'serve', folder(), '--port', '0', ...pretty], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.once('data', () => child.kill('SIGTERM'));
      child.stdout.on('data', (chunk: Buffer) => (output += chunk));
      const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(guard);
      expect(code, `${pretty.join(' ')}: ${output}`).toBe(0);
      expect(output).toContain('shut down');
    }
  });

  it('takes the token from WASMTUBE_TOKEN', async () => {
    const server = await startCliServer([folder(), '--port', '0'], { WASMTUBE_TOKEN: 'tok' });
    expectError(await callJson(server, 'guest', 'echo', 1), 401, 'ERR_UNAUTHORIZED');
    const ok = await callJson(server, 'guest', 'echo', 1, { authorization: 'Bearer tok' });
    expect(ok.status).toBe(200);
    expect((await send(`${server.url}/healthz`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('exits 4 when it cannot start: no such folder, address in use', async () => {
    const missing = await runCli([
      'serve',
      join(tmpdir(), 'wasmtube-no-such-folder'),
      '--port',
      '0',
    ]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/^wasmtube: ERR_DEPLOY_FOLDER: /m);

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const busy = await runCli(['serve', folder(), '--port', String(port)]);
      expect(busy.code).toBe(4);
      expect(busy.stderr).toMatch(/^wasmtube: ERR_LISTEN_FAILED: .*--port/m);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('exits 2 for invalid flags', async () => {
    for (const args of [
      ['--port', 'abc'],
      ['--threads', '0'],
      ['--log-level', 'loud'],
      ['--isolation', 'request'],
      ['--blank-threads', 'many'],
      ['--blank-threads', '65'],
    ]) {
      expect((await runCli(['serve', '.', ...args])).code).toBe(2);
    }
    const { stderr } = await runCli(['serve', '.', '--blank-threads', 'many']);
    expect(stderr).toContain("Expected 'auto' or an integer from 0 to 64");
  });
});
