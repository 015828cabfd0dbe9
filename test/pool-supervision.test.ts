import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Supervisor } from '../dist/index.js';
import { WASM_TEST, fixture, rejectsWithCode } from './helpers.js';
import { nextEvent, startWorker } from './pool-helpers.js';

const crashyImports = fileURLToPath(
  new URL('./fixtures/hosts/crashy-imports.mjs', import.meta.url),
);
const crashable = (supervisor: Supervisor, name: string) =>
  startWorker({
    wasmFile: fixture('needs_import'),
    importsModule: crashyImports,
    threads: 1,
    supervisor,
    name,
  });

describe('Supervisor', () => {
  it('escalates past the restart intensity: failure event, queued and later calls rejected', async () => {
    const supervisor = new Supervisor({ maxRestarts: 2, periodMs: 60_000 });
    const worker = await crashable(supervisor, 'intense');
    const failure = nextEvent<{ code: string }>(worker, 'failure');
    const supervisorFailure = new Promise((resolve) => supervisor.once('failure', resolve));
    for (let i = 0; i < 2; i++) {
      await rejectsWithCode(worker.callFunction('echo', { data: 'exit' }), 'ERR_WORKER_EXITED');
    }
    const third = worker.callFunction('echo', { data: 'exit' });
    const queued = worker.callFunction('echo', { data: 1 });
    await rejectsWithCode(third, 'ERR_WORKER_EXITED');
    await rejectsWithCode(queued, 'ERR_RESTART_INTENSITY');
    expect(await failure).toMatchObject({ code: 'ERR_RESTART_INTENSITY' });
    await supervisorFailure;
    expect(worker.state).toBe('failed');
    await rejectsWithCode(worker.callFunction('echo', { data: 2 }), 'ERR_RESTART_INTENSITY');
    expect(worker.stats().failedByCode).toMatchObject({
      ERR_WORKER_EXITED: 3,
      ERR_RESTART_INTENSITY: 2,
    });
  });

  it('one_for_all restarts every child when one crashes', async () => {
    const supervisor = new Supervisor({ strategy: 'one_for_all' });
    const crashy = await crashable(supervisor, 'all-a');
    const counter = await startWorker({
      wasmFile: WASM_TEST,
      threads: 1,
      supervisor,
      name: 'all-b',
    });
    await counter.callFunction('count', { data: null });
    expect(await counter.callFunction('count', { data: null })).toEqual({ count: 2 });
    const restarted = nextEvent<{ reason: string }>(counter, 'restart');
    const supervised = new Promise<{ restarted: string[] }>((r) => supervisor.once('restart', r));
    await rejectsWithCode(crashy.callFunction('echo', { data: 'exit' }), 'ERR_WORKER_EXITED');
    expect((await supervised).restarted).toEqual(['all-a', 'all-b']);
    expect(await restarted).toMatchObject({ reason: 'supervisor' });
    expect(await counter.callFunction('count', { data: null })).toEqual({ count: 1 });
  });

  it('rest_for_one restarts the crashed child and those after it, not those before', async () => {
    const supervisor = new Supervisor({ strategy: 'rest_for_one' });
    const first = await startWorker({
      wasmFile: WASM_TEST,
      threads: 1,
      supervisor,
      name: 'rest-1',
    });
    const crashy = await crashable(supervisor, 'rest-2');
    const last = await startWorker({ wasmFile: WASM_TEST, threads: 1, supervisor, name: 'rest-3' });
    await first.callFunction('count', { data: null });
    await last.callFunction('count', { data: null });
    const supervised = new Promise<{ restarted: string[] }>((r) => supervisor.once('restart', r));
    const lastRestarted = nextEvent(last, 'restart');
    await rejectsWithCode(crashy.callFunction('echo', { data: 'exit' }), 'ERR_WORKER_EXITED');
    expect((await supervised).restarted).toEqual(['rest-2', 'rest-3']);
    await lastRestarted;
    expect(await first.callFunction('count', { data: null })).toEqual({ count: 2 });
    expect(await last.callFunction('count', { data: null })).toEqual({ count: 1 });
  });

  it('rejects unknown strategies', () => {
    expect(() => new Supervisor({ strategy: 'all_for_one' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
