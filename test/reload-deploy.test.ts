import {
  copyFileSync,
  mkdtempSync,
  renameSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReloadResult, Worker } from '../dist/index.js';
import { versionGuest, wat } from './guests.js';
import { rejectsWithCode } from './helpers.js';
import { nextEvent, startWorker } from './pool-helpers.js';

/** A temporary deploy folder with v1 of the version guest, and a watching worker on it. */
async function deployed(extra: Parameters<typeof startWorker>[0] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wasmtube-deploy-'));
  const file = join(dir, 'guest.wasm');
  writeFileSync(file, versionGuest(1));
  const worker = await startWorker({ wasmFile: file, threads: 2, ...extra });
  const reloads: ReloadResult[] = [];
  const errors: { code: string }[] = [];
  worker.on('reload', (r) => reloads.push(r));
  worker.on('reload-error', (e) => errors.push(e));
  return { dir, file, worker, reloads, errors };
}

const ECHO_ONLY =
  '(module (memory (export "memory") 1) (func (export "echo") (param i32 i32) (result i32) (local.get 1)))';

const which = (worker: Worker) => worker.callFunction('which', { data: null });

/** Waits long enough for any further (unwanted) reload of the same deploy to show up. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('hot reload on deploy', () => {
  it('overwrite in place reloads once, and calls see the new content and version', async () => {
    const { file, worker, reloads } = await deployed();
    expect(await which(worker)).toEqual({ v: 1 });
    const reload = nextEvent<ReloadResult>(worker, 'reload');
    writeFileSync(file, versionGuest(2));
    expect(await reload).toMatchObject({ from: 0, to: 1 });
    expect(await worker.callFunctionWithInfo('which', { data: null })).toMatchObject({
      result: { v: 2 },
      info: { version: 1 },
    });
    await settle();
    expect(reloads).toHaveLength(1);
  });

  it('cp over the file reloads once', async () => {
    const { dir, file, worker, reloads } = await deployed();
    writeFileSync(join(dir, 'build.out'), versionGuest(3));
    const reload = nextEvent(worker, 'reload');
    copyFileSync(join(dir, 'build.out'), file);
    await reload;
    expect(await which(worker)).toEqual({ v: 3 });
    await settle();
    expect(reloads).toHaveLength(1);
  });

  it('write to a temporary file then rename over it (a new inode) reloads once', async () => {
    const { dir, file, worker, reloads } = await deployed();
    const reload = nextEvent(worker, 'reload');
    writeFileSync(join(dir, '.guest.wasm.tmp'), versionGuest(4));
    renameSync(join(dir, '.guest.wasm.tmp'), file);
    await reload;
    expect(await which(worker)).toEqual({ v: 4 });
    await settle();
    expect(reloads).toHaveLength(1);
  });

  it('touch reloads once (a new version of the same content, as in Wasmtube)', async () => {
    const { file, worker, reloads } = await deployed();
    const reload = nextEvent<ReloadResult>(worker, 'reload');
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    expect(await reload).toMatchObject({ from: 0, to: 1, hash: worker.hash });
    expect(await which(worker)).toEqual({ v: 1 });
    await settle();
    expect(reloads).toHaveLength(1);
  });

  it('delete then re-create reloads once; a delete alone keeps the running version', async () => {
    const { file, worker, reloads } = await deployed();
    unlinkSync(file);
    await settle();
    expect(reloads).toHaveLength(0);
    expect(await which(worker)).toEqual({ v: 1 });
    const reload = nextEvent(worker, 'reload');
    writeFileSync(file, versionGuest(5));
    await reload;
    expect(await which(worker)).toEqual({ v: 5 });
    await settle();
    expect(reloads).toHaveLength(1);
  });

  it('a burst of writes yields one reload of the final content', async () => {
    const { file, worker, reloads } = await deployed();
    const reload = nextEvent(worker, 'reload');
    for (let n = 10; n <= 20; n++) writeFileSync(file, versionGuest(n));
    await reload;
    await settle();
    expect(reloads).toHaveLength(1);
    expect(await which(worker)).toEqual({ v: 20 });
  });

  it('garbage, a truncated module or a missing export is rejected; the old version keeps answering', async () => {
    const { file, worker, reloads, errors } = await deployed();
    const good = versionGuest(9);
    for (const bad of [
      Buffer.from('not wasm at all'),
      good.subarray(0, good.length - 7),
      versionGuest(9).subarray(0, 20),
    ]) {
      const rejected = nextEvent<{ code: string }>(worker, 'reload-error');
      writeFileSync(file, bad);
      expect(await rejected).toMatchObject({ code: 'ERR_RELOAD_REJECTED' });
      expect(await which(worker)).toEqual({ v: 1 });
    }
    const loaded = nextEvent(worker, 'reload');
    writeFileSync(file, good);
    await loaded;
    const missing = nextEvent<{ code: string; message: string }>(worker, 'reload-error');
    writeFileSync(file, wat(ECHO_ONLY));
    expect((await missing).message).toContain('which');
    expect(worker.version).toBe(1);
    expect(await which(worker)).toEqual({ v: 9 });
    expect(reloads).toHaveLength(1);
    expect(errors.every((e) => e.code === 'ERR_RELOAD_REJECTED')).toBe(true);
  });

  it('stop() closes the watcher: later writes do nothing', async () => {
    const { file, worker, reloads } = await deployed();
    await worker.stop();
    writeFileSync(file, versionGuest(2));
    await settle();
    expect(reloads).toHaveLength(0);
  });

  it('watch: false does not watch', async () => {
    const { file, worker, reloads } = await deployed({ watch: false });
    writeFileSync(file, versionGuest(2));
    await settle();
    expect(reloads).toHaveLength(0);
    expect(await which(worker)).toEqual({ v: 1 });
    await rejectsWithCode(worker.reload(Buffer.from('junk')), 'ERR_RELOAD_REJECTED');
  });
});
