import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { versionGuest } from './guests.js';
import {
  callJson,
  expectError,
  guestFolder,
  moduleStatus,
  rawRequest,
  send,
  startGateway,
  tempFolder,
} from './server-helpers.js';

/** A folder outside the deploy folder, holding a perfectly valid module and sidecar. */
let outside: string;
afterEach(() => {
  if (outside) rmSync(outside, { recursive: true, force: true });
});
function outsideFolder(): string {
  outside = mkdtempSync(join(tmpdir(), 'wasmtube-outside-'));
  writeFileSync(join(outside, 'secret.wasm'), versionGuest(666));
  writeFileSync(join(outside, 'settings.json'), JSON.stringify({ threads: 1 }));
  mkdirSync(join(outside, 'data'));
  return outside;
}

describe('safety', () => {
  it('listens on 127.0.0.1 unless told otherwise', async () => {
    const gateway = await startGateway(guestFolder());
    const address = gateway.app.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('module names with path characters are refused before any lookup', async () => {
    const gateway = await startGateway(guestFolder());
    for (const name of [
      '..%2F..%2Fetc%2Fpasswd',
      '.hidden',
      'guest.wasm',
      'a%00b',
      'x'.repeat(65),
    ]) {
      const answer = await send(`${gateway.url}/functions/${name}/echo`, { method: 'POST' });
      expectError(answer, 400, 'ERR_MODULE_NAME_INVALID');
    }
    // Dot segments sent as they are (fetch would normalise them) do not reach a module either.
    for (const path of [
      '/functions/../guest/echo',
      '/functions/%2e%2e/echo',
      '/functions/%2e%2e%2fguest/echo',
      '/functions/guest/../../etc/passwd',
      '/../functions/guest/echo',
    ]) {
      const { status } = await rawRequest(gateway, 'POST', path);
      expect([400, 404]).toContain(status);
    }
  });

  it('a .wasm symlinked from outside the folder is not served', async () => {
    const dir = guestFolder();
    symlinkSync(join(outsideFolder(), 'secret.wasm'), join(dir, 'evil.wasm'));
    const gateway = await startGateway(dir);
    expectError(await callJson(gateway, 'evil', 'which'), 503, 'ERR_MODULE_UNAVAILABLE');
    expect(await moduleStatus(gateway, 'evil')).toMatchObject({
      state: 'failed',
      error: { code: 'ERR_UNSAFE_PATH' },
    });
    // Through a symlinked sub-folder, or a relative link climbing out, it is the same.
    symlinkSync(outside, join(dir, 'link-dir'));
    symlinkSync('link-dir/secret.wasm', join(dir, 'evil2.wasm'));
    symlinkSync(`../${outside.split('/').pop()}/secret.wasm`, join(dir, 'evil3.wasm'));
    const gateway2 = await startGateway(dir);
    for (const name of ['evil2', 'evil3']) {
      expect((await moduleStatus(gateway2, name)).error.code).toBe('ERR_UNSAFE_PATH');
    }
  });

  it('a symlink to a file inside the folder is served', async () => {
    const dir = tempFolder({ 'v1.wasm.bin': versionGuest(1) });
    symlinkSync('v1.wasm.bin', join(dir, 'current.wasm'));
    const gateway = await startGateway(dir);
    expect((await callJson(gateway, 'current', 'which')).body).toEqual({ v: 1 });
  });

  it('sidecars and WASI preopens may not reach outside the folder either', async () => {
    const dir = tempFolder({ 'a.wasm': versionGuest(1), 'b.wasm': versionGuest(2) });
    symlinkSync(join(outsideFolder(), 'settings.json'), join(dir, 'a.json'));
    writeFileSync(
      join(dir, 'b.json'),
      JSON.stringify({ wasi: { preopens: { '/data': '../data' } } }),
    );
    mkdirSync(join(dir, 'inside'));
    writeFileSync(join(dir, 'c.wasm'), versionGuest(3));
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({ wasi: { preopens: { '/data': 'inside' } } }),
    );
    const gateway = await startGateway(dir);
    expect((await moduleStatus(gateway, 'a')).error.code).toBe('ERR_UNSAFE_PATH');
    expect((await moduleStatus(gateway, 'b')).error.code).toMatch(
      /^ERR_(UNSAFE_PATH|SIDECAR_INVALID)$/,
    );
    expect((await callJson(gateway, 'c', 'which')).body).toEqual({ v: 3 });
  });

  it('files whose names are not module names, and directories, are never deployed', async () => {
    const dir = tempFolder({ 'bad name.wasm': versionGuest(1) });
    mkdirSync(join(dir, 'folder.wasm'));
    const gateway = await startGateway(dir);
    const modules = (await send(`${gateway.url}/functions`)).body.modules;
    expect(modules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'bad name',
          state: 'failed',
          error: expect.objectContaining({ code: 'ERR_MODULE_NAME_INVALID' }),
        }),
        expect.objectContaining({
          name: 'folder',
          state: 'failed',
          error: expect.objectContaining({ code: 'ERR_UNSAFE_PATH' }),
        }),
      ]),
    );
    expectError(await callJson(gateway, 'folder', 'which'), 503, 'ERR_MODULE_UNAVAILABLE');
  });
});
