import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Worker } from '../dist/index.js';
import { WASM_TEST, rejectsWithCode } from './helpers.js';
import { DIST, roundsFor, runScript, startWorker } from './pool-helpers.js';

describe('Worker lifecycle and registry', () => {
  it('stop() lets queued and running calls finish, then refuses calls', async () => {
    const worker = await startWorker({ threads: 1 });
    const calls = [1, 2, 3].map(() =>
      worker.callFunction('work', { data: { rounds: roundsFor(50) } }),
    );
    const stopping = worker.stop();
    expect(worker.stop()).toBe(stopping);
    await rejectsWithCode(worker.callFunction('echo', { data: 1 }), 'ERR_WORKER_STOPPED');
    await expect(Promise.all(calls)).resolves.toHaveLength(3);
    await stopping;
    expect(worker.state).toBe('stopped');
    expect(worker.stats().threads.alive).toBe(0);
  });

  it('stop({ timeoutMs }) rejects what is left with ERR_WORKER_STOPPED', async () => {
    const worker = await startWorker({ threads: 1, timeoutMs: 0 });
    const loop = worker.callFunction('endless_loop', { data: null });
    const queued = worker.callFunction('echo', { data: 1 });
    const rejections = [
      rejectsWithCode(loop, 'ERR_WORKER_STOPPED'),
      rejectsWithCode(queued, 'ERR_WORKER_STOPPED'),
    ];
    await worker.stop({ timeoutMs: 100 });
    await Promise.all(rejections);
    expect(worker.stats().failedByCode).toEqual({ ERR_WORKER_STOPPED: 2 });
  });

  it('after stop() the process exits on its own', async () => {
    const { code, output } = await runScript(`
      import { Worker } from ${JSON.stringify(DIST)};
      const worker = await Worker.start({ wasmFile: ${JSON.stringify(WASM_TEST)}, threads: 2, timeoutMs: 200 });
      await worker.callFunction('echo', { data: 1 });
      await worker.callFunction('endless_loop', { data: null }).catch(() => {});
      await worker.stop();
      console.log('stopped');`);
    expect(output).toBe('stopped');
    expect(code).toBe(0);
  });

  it('registers names like GenServer names', async () => {
    const worker = await startWorker({ name: 'registry-echo', threads: 1 });
    expect(Worker.whereis('registry-echo')).toBe(worker);
    expect(await Worker.callFunction('registry-echo', 'echo', { data: 'by name' })).toBe('by name');
    await rejectsWithCode(startWorker({ name: 'registry-echo', threads: 1 }), 'ERR_NAME_TAKEN');
    expect(Worker.whereis('registry-echo')).toBe(worker);
    await worker.stop();
    expect(Worker.whereis('registry-echo')).toBeUndefined();
    await rejectsWithCode(
      Worker.callFunction('registry-echo', 'echo', { data: 1 }),
      'ERR_WORKER_NOT_FOUND',
    );
    const again = await startWorker({ name: 'registry-echo', threads: 1 });
    expect(Worker.whereis('registry-echo')).toBe(again);
  });

  it('supports await using', async () => {
    let escaped: Worker | undefined;
    {
      await using worker = await Worker.start({ wasmFile: WASM_TEST, threads: 1 });
      escaped = worker;
      expect(await worker.callFunction('echo', { data: 1 })).toBe(1);
    }
    expect(escaped.state).toBe('stopped');
  });

  it('reports latency percentiles', async () => {
    const worker = await startWorker({ threads: 1 });
    for (let i = 0; i < 20; i++) await worker.callFunction('echo', { data: i });
    const { latencyMs } = worker.stats();
    expect(latencyMs.count).toBe(20);
    expect(latencyMs.p50).toBeGreaterThan(0);
    expect(latencyMs.p99).toBeGreaterThanOrEqual(latencyMs.p50);
    expect(latencyMs.max).toBeGreaterThanOrEqual(latencyMs.p99);
  });
});
