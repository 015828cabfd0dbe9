import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { fixture, WASM_TEST } from './helpers.js';
import { DIST, roundsFor, runScript, startWorker } from './pool-helpers.js';

const crashyImports = fileURLToPath(
  new URL('./fixtures/hosts/crashy-imports.mjs', import.meta.url),
);

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: { code?: string }) => error.code ?? 'no code',
  );

describe('A fault fails only the call that caused it', () => {
  it('calls that finished before their thread timed out are delivered, not failed', async () => {
    const worker = await startWorker({ threads: 1, spareThreads: 0, timeoutMs: 200 });
    const echoes = Array.from({ length: 10 }, (_, i) =>
      worker.callFunction('echo', { data: { i } }),
    );
    const spin = codeOf(worker.callFunction('endless_loop', { data: {} }));
    expect(await Promise.all(echoes)).toEqual(Array.from({ length: 10 }, (_, i) => ({ i })));
    expect(await spin).toBe('ERR_CALL_TIMEOUT');
    // Calls behind the endless loop moved on and ran once.
    expect(await worker.callFunction('echo', { data: 'after' })).toBe('after');
  });

  it('retry does not run a call again that had finished before its thread died', async () => {
    const worker = await startWorker({ threads: 1, spareThreads: 0, timeoutMs: 200 });
    const echoes = Array.from({ length: 8 }, (_, i) =>
      worker.callFunctionWithInfo('echo', { data: i }, { retry: 2 }),
    );
    const spin = codeOf(worker.callFunction('endless_loop', { data: {} }));
    const served = await Promise.all(echoes);
    expect(await spin).toBe('ERR_CALL_TIMEOUT');
    expect(served.map(({ result }) => result)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(served.map(({ info }) => info.attempts)).toEqual(Array(8).fill(1));
  });

  it('an abort after the call finished is a no-op for its thread and the next call', async () => {
    const worker = await startWorker({ threads: 1, spareThreads: 0 });
    const controller = new AbortController();
    const first = codeOf(
      worker.callFunction('echo', { data: 'first' }, { signal: controller.signal }),
    );
    const slow = worker.callFunction('work', { data: { rounds: roundsFor(150) } });
    const next = worker.callFunction('echo', { data: 'next' });
    // Abort while the slow call runs: the first call has finished by then.
    await sleep(60);
    controller.abort();
    expect(await first).toBe('ok');
    await expect(slow).resolves.toBeDefined();
    expect(await next).toBe('next');
    expect(worker.stats().restarts).toBe(0);
  });

  it('aborting a running call fails only that call; the calls behind it are served', async () => {
    const worker = await startWorker({ threads: 1, spareThreads: 0 });
    const controller = new AbortController();
    const before = worker.callFunction('echo', { data: 'before' });
    const slow = codeOf(
      worker.callFunction('endless_loop', { data: {} }, { signal: controller.signal }),
    );
    const behind = Array.from({ length: 5 }, (_, i) => worker.callFunction('echo', { data: i }));
    await sleep(60);
    controller.abort();
    expect(await before).toBe('before');
    expect(await slow).toBe('ERR_ABORTED');
    expect(await Promise.all(behind)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('A supervisor giving up', () => {
  it('terminates each thread once: no MaxListenersExceededWarning', async () => {
    const { code, output } = await runScript(`
      import { Supervisor, Worker } from ${JSON.stringify(DIST)};
      process.on('warning', (warning) => console.log(warning.name));
      const supervisor = new Supervisor({ maxRestarts: 0 });
      const busy = await Worker.start({ wasmFile: ${JSON.stringify(WASM_TEST)}, threads: 1, supervisor });
      const crashy = await Worker.start({
        wasmFile: ${JSON.stringify(fixture('needs_import'))},
        importsModule: ${JSON.stringify(crashyImports)},
        threads: 1,
        supervisor,
      });
      // Calls that finish while a long one runs behind them, then the supervisor gives up.
      const calls = Array.from({ length: 30 }, (_, i) => busy.callFunction('echo', { data: i }));
      calls.push(busy.callFunction('work', { data: { rounds: ${roundsFor(300)} } }));
      const settled = Promise.allSettled(calls);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await crashy.callFunction('echo', { data: 'exit' }).catch(() => {});
      const outcomes = (await settled).map((o) => (o.status === 'fulfilled' ? 'ok' : o.reason.code));
      console.log(outcomes.filter((o) => o === 'ok').length, outcomes.at(-1), busy.state);
      await busy.stop();
      await crashy.stop();`);
    expect(output).not.toContain('MaxListenersExceededWarning');
    expect(output).toBe('30 ERR_RESTART_INTENSITY failed');
    expect(code).toBe(0);
  });
});
