import { describe, expect, it } from 'vitest';
import { rejectsWithCode } from './helpers.js';
import { eventually, nextEvent, roundsFor, startWorker } from './pool-helpers.js';

describe('Worker timeouts and cancellation', () => {
  it('an endless loop times out, other threads keep serving, the thread is replaced', async () => {
    const worker = await startWorker({ threads: 2, timeoutMs: 300 });
    const timeoutEvent = nextEvent<{ fn: string; timeoutMs: number }>(worker, 'timeout');
    const restartEvent = nextEvent<{ reason: string }>(worker, 'restart');
    const loop = worker.callFunction('endless_loop', { data: null });
    // While one thread spins, the other answers.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => worker.callFunction('echo', { data: i })),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const error = await rejectsWithCode(loop, 'ERR_CALL_TIMEOUT');
    expect(error.details.timeoutMs).toBe(300);
    expect(await timeoutEvent).toMatchObject({ fn: 'endless_loop', timeoutMs: 300 });
    expect(await restartEvent).toMatchObject({ reason: 'timeout' });
    await eventually(() => worker.stats().threads.ready === 2, 'both threads ready again');
    expect(worker.stats()).toMatchObject({
      timeouts: 1,
      restarts: 1,
      failedByCode: { ERR_CALL_TIMEOUT: 1 },
    });
    expect(await worker.callFunction('echo', { data: 'after' })).toBe('after');
  });

  it('counts running time, not time in the queue', async () => {
    const worker = await startWorker({ threads: 1, timeoutMs: 0 });
    const work = { data: { rounds: roundsFor(50) } };
    const { runMs } = (await worker.callFunctionWithInfo('work', work)).info;
    // Each call runs well inside its timeout, but together they queue for over twice as long.
    const timeoutMs = Math.max(4 * runMs, 100);
    const count = Math.ceil((2 * timeoutMs) / runMs) + 2;
    const calls = Array.from({ length: count }, () =>
      worker.callFunctionWithInfo('work', work, { timeoutMs }),
    );
    const results = await Promise.all(calls);
    const last = results[count - 1]!.info;
    expect(last.queuedMs).toBeGreaterThan(timeoutMs);
    expect(worker.stats().timeouts).toBe(0);
  });

  it('a per-call timeoutMs overrides the worker default', async () => {
    const worker = await startWorker({ threads: 1, timeoutMs: 0 });
    await rejectsWithCode(
      worker.callFunction('endless_loop', { data: null }, { timeoutMs: 100 }),
      'ERR_CALL_TIMEOUT',
    );
    expect(await worker.callFunction('echo', { data: 1 })).toBe(1);
  });

  it('queueTimeoutMs bounds the wait for a thread', async () => {
    const worker = await startWorker({ threads: 1, timeoutMs: 500 });
    const loop = worker.callFunction('endless_loop', { data: null });
    const waiting = worker.callFunction('echo', { data: 1 }, { queueTimeoutMs: 100 });
    const error = await rejectsWithCode(waiting, 'ERR_QUEUE_TIMEOUT');
    expect(error.details.queueTimeoutMs).toBe(100);
    await rejectsWithCode(loop, 'ERR_CALL_TIMEOUT');
    expect(await worker.callFunction('echo', { data: 2 })).toBe(2);
  });

  it('an AbortSignal cancels a queued call without touching threads', async () => {
    const worker = await startWorker({ threads: 1 });
    const slow = worker.callFunction('work', { data: { rounds: roundsFor(200) } });
    const controller = new AbortController();
    const queued = worker.callFunction('echo', { data: 1 }, { signal: controller.signal });
    controller.abort(new Error('no longer needed'));
    const error = await rejectsWithCode(queued, 'ERR_ABORTED');
    expect((error.cause as Error).message).toBe('no longer needed');
    await slow;
    expect(worker.stats().restarts).toBe(0);
  });

  it('an AbortSignal stops a running call by replacing its thread', async () => {
    const worker = await startWorker({ threads: 1, timeoutMs: 0 });
    const controller = new AbortController();
    const running = worker.callFunction(
      'endless_loop',
      { data: null },
      { signal: controller.signal },
    );
    await eventually(() => worker.stats().running === 1, 'the loop to start');
    const restart = nextEvent<{ reason: string }>(worker, 'restart');
    controller.abort();
    await rejectsWithCode(running, 'ERR_ABORTED');
    expect(await restart).toMatchObject({ reason: 'abort' });
    expect(await worker.callFunction('echo', { data: 'next' })).toBe('next');
    await rejectsWithCode(
      worker.callFunction('echo', { data: 1 }, { signal: AbortSignal.abort() }),
      'ERR_ABORTED',
    );
  });

  it('a start function that never returns is ERR_START_TIMEOUT', async () => {
    const { fixture } = await import('./helpers.js');
    await rejectsWithCode(
      startWorker({ wasmFile: fixture('start_loop'), threads: 1, startTimeoutMs: 300 }),
      'ERR_START_TIMEOUT',
    );
  });
});
