import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture, rejectsWithCode } from './helpers.js';
import { DIST, eventually, nextEvent, runScript, startWorker } from './pool-helpers.js';

const crashyImports = fileURLToPath(
  new URL('./fixtures/hosts/crashy-imports.mjs', import.meta.url),
);
const hostWorker = (extra = {}) =>
  startWorker({
    wasmFile: fixture('needs_import'),
    importsModule: crashyImports,
    threads: 2,
    ...extra,
  });

describe('Worker thread crashes', () => {
  it('process.exit in host code fails only the running call; queued calls are served', async () => {
    const worker = await hostWorker();
    const exits: { expected: boolean; exitCode: number }[] = [];
    worker.on('exit', (event) => exits.push(event));
    const restart = nextEvent<{ reason: string; exitCode: number }>(worker, 'restart');
    const crash = worker.callFunction('echo', { data: 'exit' });
    const queued = Array.from({ length: 30 }, (_, i) => worker.callFunction('echo', { data: i }));
    const error = await rejectsWithCode(crash, 'ERR_WORKER_EXITED');
    expect(error.message).toContain('code: 3');
    expect(await Promise.all(queued)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(await restart).toMatchObject({ reason: 'crash', exitCode: 3 });
    expect(exits).toContainEqual(expect.objectContaining({ expected: false, exitCode: 3 }));
    await eventually(() => worker.stats().threads.ready === 2, 'the thread to be replaced');
    expect(worker.stats()).toMatchObject({
      restarts: 1,
      completed: 30,
      failedByCode: { ERR_WORKER_EXITED: 1 },
    });
  });

  it('an uncaught error thrown later by host code is a crash too', async () => {
    const worker = await hostWorker();
    const restart = nextEvent<{ reason: string }>(worker, 'restart');
    // The error kills the thread; the call fails with it unless its answer was already sent.
    const outcome = await worker.callFunction('echo', { data: 'throw' }).catch((e) => e.code);
    expect(['throw', 'ERR_WORKER_EXITED']).toContain(outcome);
    expect(await restart).toMatchObject({ reason: 'crash' });
    expect(await worker.callFunction('echo', { data: 'ok' })).toBe('ok');
    await eventually(() => worker.stats().threads.ready === 2, 'the thread to be replaced');
  });

  it('after host crashes, stop() still lets the process exit (no zombie thread)', async () => {
    const { code, output } = await runScript(`
      import { Worker } from ${JSON.stringify(DIST)};
      const worker = await Worker.start({
        wasmFile: ${JSON.stringify(fixture('needs_import'))},
        importsModule: ${JSON.stringify(crashyImports)},
        threads: 2,
      });
      for (let i = 0; i < 6; i++) await worker.callFunction('echo', { data: 'throw' }).catch(() => {});
      await worker.stop();
      console.log('stopped');`);
    expect(output).toBe('stopped');
    expect(code).toBe(0);
  });

  it('retry: n runs an idempotent call again on a fresh thread', async () => {
    // Host code that crashes the first time it runs in this process, then behaves.
    const dir = mkdtempSync(join(tmpdir(), 'wasmtube-retry-'));
    const flag = join(dir, 'crashed-once');
    const module = join(dir, 'imports.mjs');
    writeFileSync(
      module,
      `import { existsSync, writeFileSync } from 'node:fs';
       export default { env: { host_log() {
         if (!existsSync(${JSON.stringify(flag)})) { writeFileSync(${JSON.stringify(flag)}, ''); process.exit(4); }
       } } };`,
    );
    const worker = await startWorker({
      wasmFile: fixture('needs_import'),
      importsModule: module,
      threads: 1,
    });
    const { result, info } = await worker.callFunctionWithInfo(
      'echo',
      { data: 'again' },
      { retry: 1 },
    );
    expect(result).toBe('again');
    expect(info.attempts).toBe(2);
    expect(worker.stats().restarts).toBe(1);
  });

  it('a memory bomb is ERR_MEMORY_LIMIT, the instance is recycled and RSS stays bounded', async () => {
    const worker = await startWorker({ threads: 1, maxMemoryMb: 64 });
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 6; i++) {
      await rejectsWithCode(worker.callFunction('memory_bomb', { data: null }), 'ERR_MEMORY_LIMIT');
    }
    // Six uncapped bombs would have taken 4 GiB each; capped, at most a few 64 MiB instances linger.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 * 1024);
    expect(await worker.callFunction('count', { data: null })).toEqual({ count: 1 });
    expect(worker.stats()).toMatchObject({ traps: 6, restarts: 0 });
  });

  it('a thread that fails to instantiate fails Worker.start with the guest error', async () => {
    await rejectsWithCode(
      startWorker({ wasmFile: fixture('needs_import'), threads: 2 }),
      'ERR_WASM_INSTANTIATE',
    );
  });
});
