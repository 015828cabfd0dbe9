import { describe, expect, it } from 'vitest';
import { rejectsWithCode } from './helpers.js';
import { startWorker } from './pool-helpers.js';

// The watchdog's timer outlives a drain by one tick, so that sporadic calls do not arm and clear
// a timer each: calls coming right after a drain, and long after it, must still be watched.
describe('the watchdog between sporadic calls', () => {
  it('times out an endless call that comes right after the pool drained', async () => {
    const worker = await startWorker({ threads: 1, timeoutMs: 0 });
    expect(await worker.callFunction('echo', { data: 1 })).toBe(1);
    // Same tick as the drain: the timer is still there, idle until its next tick.
    await rejectsWithCode(
      worker.callFunction('endless_loop', { data: null }, { timeoutMs: 100 }),
      'ERR_CALL_TIMEOUT',
    );
    expect(await worker.callFunction('echo', { data: 2 })).toBe(2);
  });

  it('times out an endless call that comes after the pool sat idle', async () => {
    const worker = await startWorker({ threads: 1, timeoutMs: 0 });
    for (let i = 0; i < 5; i++) {
      expect(await worker.callFunction('echo', { data: i })).toBe(i);
      await new Promise((resolve) => setTimeout(resolve, 3 + 5 * i)); // before and after a tick
    }
    await new Promise((resolve) => setTimeout(resolve, 50)); // the timer has ended by now
    await rejectsWithCode(
      worker.callFunction('endless_loop', { data: null }, { timeoutMs: 100 }),
      'ERR_CALL_TIMEOUT',
    );
    expect(worker.stats().timeouts).toBe(1);
  });

  it('still checks queue timeouts after sporadic calls', async () => {
    const worker = await startWorker({ threads: 1, timeoutMs: 400 });
    expect(await worker.callFunction('echo', { data: 1 })).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const loop = worker.callFunction('endless_loop', { data: null });
    await rejectsWithCode(
      worker.callFunction('echo', { data: 1 }, { queueTimeoutMs: 100 }),
      'ERR_QUEUE_TIMEOUT',
    );
    await rejectsWithCode(loop, 'ERR_CALL_TIMEOUT');
  });
});
