import { createHash } from 'node:crypto';
import { copyFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { versionGuest } from './guests.js';
import { WASM_TEST } from './helpers.js';
import {
  callJson,
  expectError,
  moduleStatus,
  send,
  slowCall,
  startGateway,
  tempFolder,
  until,
  type Answer,
} from './server-helpers.js';

/** Clients calling `fn` of `module` back to back until stopped; every answer is kept. */
function load(gateway: { url: string }, module: string, fn = 'which', clients = 4) {
  let stopped = false;
  const answers: Answer[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (!stopped) answers.push(await callJson(gateway, module, fn, null));
  });
  return {
    answers,
    latest: () => answers.at(-1),
    async stop(): Promise<Answer[]> {
      stopped = true;
      await Promise.all(loops);
      return answers;
    },
  };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const version = (answer: Answer) => Number(answer.headers.get('x-wasmtube-version'));

describe('the deploy folder', () => {
  it('adding a .wasm deploys it while the other modules keep serving', async () => {
    const dir = tempFolder({ 'a.wasm': versionGuest(1) });
    const gateway = await startGateway(dir);
    const traffic = load(gateway, 'a');
    writeFileSync(join(dir, 'b.wasm'), versionGuest(7));
    await until(async () => (await callJson(gateway, 'b', 'which')).status === 200, 'b deployed');
    const b = await callJson(gateway, 'b', 'which');
    expect(b.body).toEqual({ v: 7 });
    expect(version(b)).toBe(1);
    const answers = await traffic.stop();
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  });

  it('changing a .wasm hot-reloads it with no failed request; each answer names its version', async () => {
    const dir = tempFolder({ 'guest.wasm': versionGuest(1) });
    const file = join(dir, 'guest.wasm');
    const gateway = await startGateway(dir, { defaults: { threads: 2 } });
    const traffic = load(gateway, 'guest');
    const served = (v: number) => until(async () => traffic.latest()?.body?.v === v, `v${v}`);
    await served(1);
    writeFileSync(file, versionGuest(2)); // overwrite in place
    await served(2);
    writeFileSync(join(dir, '.guest.wasm.tmp'), versionGuest(3)); // write, then rename over it
    renameSync(join(dir, '.guest.wasm.tmp'), file);
    await served(3);
    const answers = await traffic.stop();
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const hashes = new Map([1, 2, 3].map((v) => [v, sha256(versionGuest(v))]));
    for (const answer of answers) {
      // Content n was deployed as version n, and the hash header is that content's.
      expect(version(answer)).toBe(answer.body.v);
      expect(answer.headers.get('x-wasmtube-module-hash')).toBe(hashes.get(answer.body.v));
    }
    expect(await moduleStatus(gateway, 'guest')).toMatchObject({ version: 3, state: 'serving' });
  });

  it('deleting a .wasm lets the calls in flight finish, then undeploys it; re-adding redeploys', async () => {
    const dir = tempFolder();
    copyFileSync(WASM_TEST, join(dir, 'guest.wasm'));
    const gateway = await startGateway(dir, { defaults: { threads: 2 } });
    const { answer: first } = await slowCall(gateway, 'guest', { ms: 600 });
    const { answer: second } = await slowCall(gateway, 'guest', { ms: 600, running: 2 });
    unlinkSync(join(dir, 'guest.wasm'));
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    await until(
      async () => (await callJson(gateway, 'guest', 'echo', 1)).status === 404,
      'guest undeployed',
    );
    expectError(await callJson(gateway, 'guest', 'echo', 1), 404, 'ERR_MODULE_NOT_FOUND');
    expect((await send(`${gateway.url}/functions`)).body.modules).toEqual([]);

    copyFileSync(WASM_TEST, join(dir, 'guest.wasm'));
    await until(async () => (await callJson(gateway, 'guest', 'echo', 1)).status === 200, 'back');
    // Versions keep increasing across an undeploy.
    expect(version(await callJson(gateway, 'guest', 'echo', 1))).toBe(2);
  });

  it('changing the sidecar redeploys with the new settings, with no failed request', async () => {
    const dir = tempFolder({
      'guest.wasm': versionGuest(1),
      'guest.json': JSON.stringify({ threads: 1 }),
    });
    const gateway = await startGateway(dir);
    const traffic = load(gateway, 'guest');
    writeFileSync(join(dir, 'guest.json'), JSON.stringify({ threads: 3, timeoutMs: 1234 }));
    await until(
      async () => (await moduleStatus(gateway, 'guest')).threads?.target === 3,
      'redeployed with 3 threads',
    );
    await until(async () => version(traffic.latest()!) === 2, 'calls served by version 2');
    const answers = await traffic.stop();
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(await moduleStatus(gateway, 'guest')).toMatchObject({
      version: 2,
      settings: { timeoutMs: 1234 },
    });
  });

  it('a WASI module gets the environment its sidecar grants; changing it takes effect', async () => {
    const sidecar = (shift: string) =>
      JSON.stringify({ wasi: { env: { SHIFT: shift } }, hostFunctions: ['wasmtube.log'] });
    const dir = tempFolder({ 'cipher.json': sidecar('1') });
    copyFileSync(new URL('../examples/cipher.wasm', import.meta.url), join(dir, 'cipher.wasm'));
    const gateway = await startGateway(dir);
    const encrypt = () => callJson(gateway, 'cipher', 'encrypt', { text: 'abc XYZ!' });
    expect((await encrypt()).body).toEqual({ text: 'bcd YZA!', shift: 1 });
    writeFileSync(join(dir, 'cipher.json'), sidecar('2'));
    await until(async () => (await encrypt()).body?.shift === 2, 'SHIFT=2 deployed');
    expect((await encrypt()).body).toEqual({ text: 'cde ZAB!', shift: 2 });
    const decrypted = await callJson(gateway, 'cipher', 'decrypt', { text: 'cde ZAB!' });
    expect(decrypted.body).toEqual({ text: 'abc XYZ!', shift: 2 });
  });

  it('a bad build is rejected: the running version keeps serving and the error is listed', async () => {
    const dir = tempFolder({ 'guest.wasm': versionGuest(1) });
    const gateway = await startGateway(dir);
    const traffic = load(gateway, 'guest');
    writeFileSync(join(dir, 'guest.wasm'), 'not wasm');
    await until(
      async () => (await moduleStatus(gateway, 'guest')).error?.code === 'ERR_RELOAD_REJECTED',
      'the reload rejected',
    );
    expect(await moduleStatus(gateway, 'guest')).toMatchObject({ state: 'serving', version: 1 });
    writeFileSync(join(dir, 'guest.wasm'), versionGuest(2));
    await until(async () => traffic.latest()?.body?.v === 2, 'v2 served');
    const answers = await traffic.stop();
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const status = await moduleStatus(gateway, 'guest');
    expect(status.error).toBeUndefined();
    expect(status.version).toBe(2);
  });

  it('an invalid sidecar keeps a module from deploying until it is fixed', async () => {
    const dir = tempFolder({ 'x.wasm': versionGuest(1), 'x.json': '{"threads": 2,' });
    const gateway = await startGateway(dir);
    expectError(await callJson(gateway, 'x', 'which'), 503, 'ERR_MODULE_UNAVAILABLE');
    expect((await moduleStatus(gateway, 'x')).error.code).toBe('ERR_SIDECAR_INVALID');
    writeFileSync(join(dir, 'x.json'), JSON.stringify({ thread: 2 })); // a typo is refused too
    await until(
      async () => (await moduleStatus(gateway, 'x')).error?.message?.includes('thread') === true,
      'the typo reported',
    );
    expect((await moduleStatus(gateway, 'x')).error.code).toBe('ERR_SIDECAR_INVALID');
    writeFileSync(join(dir, 'x.json'), JSON.stringify({ threads: 2 }));
    await until(async () => (await callJson(gateway, 'x', 'which')).status === 200, 'deployed');
    expect(await moduleStatus(gateway, 'x')).toMatchObject({
      state: 'serving',
      threads: { target: 2 },
    });
  });

  it('a sidecar broken while serving keeps the running settings; fixing it clears the error', async () => {
    const good = JSON.stringify({ threads: 1 });
    const dir = tempFolder({ 'guest.wasm': versionGuest(1), 'guest.json': good });
    const gateway = await startGateway(dir);
    writeFileSync(join(dir, 'guest.json'), '{ nope');
    await until(
      async () => (await moduleStatus(gateway, 'guest')).error?.code === 'ERR_SIDECAR_INVALID',
      'the sidecar error listed',
    );
    expect((await callJson(gateway, 'guest', 'which')).body).toEqual({ v: 1 });
    writeFileSync(join(dir, 'guest.json'), good);
    await until(async () => (await moduleStatus(gateway, 'guest')).error === undefined, 'cleared');
    expect(await moduleStatus(gateway, 'guest')).toMatchObject({ state: 'serving', version: 1 });
  });
});
