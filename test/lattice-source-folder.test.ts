import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Lattice } from '../dist/cluster/index.js';
import { runCli } from './cli-helpers.js';
import { describeWithNats, startHost, startNats, stopAll, until } from './nats-harness.js';

const ECHO = readFileSync(new URL('../examples/echo.wasm', import.meta.url));
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describeWithNats('serve <dir> --nats: the folder deploys to the whole lattice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmtube-source-'));
  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys the folder at start, redeploys a changed file, undeploys a removed one, everywhere', async () => {
    const nats = (await startNats()).url;
    writeFileSync(join(dir, 'echo.wasm'), ECHO);
    writeFileSync(join(dir, 'echo.json'), JSON.stringify({ threads: 1 }));
    await startHost(nats, 'src', 'plain');
    await startHost(nats, 'src', 'source', [dir]);
    const lattice = await Lattice.connect({ servers: nats, name: 'src' });
    try {
      const versionsOf = async () =>
        (await lattice.hosts()).map((h) => h.modules.find((m) => m.name === 'echo'));
      await until('echo v1 on both hosts', async () =>
        (await versionsOf()).every((m) => m?.state === 'serving' && m.hash === sha(ECHO)),
      );
      // Same exports, other bytes (a custom section appended): a new version everywhere.
      const changed = Buffer.concat([ECHO, Buffer.from([0, 4, 3, 0x6e, 0x65, 0x77])]);
      writeFileSync(join(dir, 'echo.wasm'), changed);
      await until('the new version on both hosts', async () => {
        const modules = await versionsOf();
        return modules.length === 2 && modules.every((m) => m?.hash === sha(changed));
      });
      expect(new Set((await versionsOf()).map((m) => m?.version))).toEqual(new Set([2]));
      unlinkSync(join(dir, 'echo.wasm'));
      await until('echo gone from both hosts', async () =>
        (await versionsOf()).every((m) => m === undefined),
      );
    } finally {
      await lattice.close();
    }
  });

  it('refuses a folder that does not exist (exit code 4)', async () => {
    const result = await runCli([
      'serve',
      join(dir, 'missing'),
      '--nats',
      'nats://127.0.0.1:1',
      '--port',
      '0',
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/ERR_DEPLOY_FOLDER/);
  });
});
