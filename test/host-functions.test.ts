import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Wasmtube, type HostFunctions } from '../dist/index.js';
import { fixture, rejectsWithCode, throwsWithCode } from './helpers.js';
import { startWorker } from './pool-helpers.js';

const HOST_TEST = fixture('host_test');
const hostModule = fileURLToPath(new URL('./fixtures/hosts/host-functions.mjs', import.meta.url));

function hostFunctions(
  logged: string[] = [],
  overrides: Partial<HostFunctions['host']> = {},
): HostFunctions {
  return {
    host: {
      log: {
        params: ['string'],
        returns: 'void',
        fn: (message: string) => void logged.push(message),
      },
      add: { params: ['i32', 'i32'], returns: 'i32', fn: (a: number, b: number) => a + b },
      upper: { params: ['string'], returns: 'string', fn: (s: string) => s.toUpperCase() },
      now: { params: [], returns: 'f64', fn: () => 1234.5 },
      ...overrides,
    } as HostFunctions['host'],
  };
}

describe('host functions, in-process', () => {
  it('receive decoded strings and return strings into guest memory', async () => {
    const logged: string[] = [];
    const bridge = Wasmtube.fromFile(HOST_TEST, { hostFunctions: hostFunctions(logged) });
    expect(await bridge.callFunction('shout', { data: { text: 'quiet please' } })).toEqual({
      upper: 'QUIET PLEASE',
    });
    expect(logged).toEqual(['quiet please']);
    expect(await bridge.callFunction('add_many', { data: { n: 1000 } })).toEqual({
      sum: 500500,
      calls: 1000,
    });
    expect(await bridge.callFunction('clock', { data: null })).toEqual({ now: 1234.5 });
  });

  it('nothing is granted by default: a missing import fails instantiation, naming it', () => {
    const none = throwsWithCode(() => Wasmtube.fromFile(HOST_TEST), 'ERR_WASM_INSTANTIATE');
    expect(none.details.missing).toEqual(
      expect.arrayContaining(['host.log', 'host.add', 'host.upper', 'host.now']),
    );
    const { now: _now, ...partial } = hostFunctions().host!;
    const some = throwsWithCode(
      () => Wasmtube.fromFile(HOST_TEST, { hostFunctions: { host: partial } }),
      'ERR_WASM_INSTANTIATE',
    );
    expect(some.details.missing).toEqual(['host.now']);
  });

  it('a declaration that does not match the import is rejected at load time', () => {
    const wrong = hostFunctions([], {
      add: { params: ['i64', 'i64'], returns: 'i64', fn: (a: bigint) => a },
    });
    throwsWithCode(
      () => Wasmtube.fromFile(HOST_TEST, { hostFunctions: wrong }),
      'ERR_WASM_INSTANTIATE',
    );
    throwsWithCode(
      () =>
        Wasmtube.fromFile(HOST_TEST, {
          hostFunctions: { host: { log: { params: ['int'], fn: () => 1 } } } as never,
        }),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('a host function that throws fails the call with ERR_HOST_FUNCTION naming it', async () => {
    const throwing = hostFunctions([], {
      upper: {
        params: ['string'],
        returns: 'string',
        fn: () => {
          throw new Error('upstream down');
        },
      },
    });
    const bridge = Wasmtube.fromFile(HOST_TEST, { hostFunctions: throwing });
    const error = await rejectsWithCode(
      bridge.callFunction('shout', { data: { text: 'x' } }),
      'ERR_HOST_FUNCTION',
    );
    expect(error.details.function).toBe('host.upper');
    expect((error.cause as Error).message).toBe('upstream down');
    expect(await bridge.callFunction('clock', { data: null })).toEqual({ now: 1234.5 });
  });

  it('an async host function is refused in-process (it cannot be awaited inside a wasm call)', async () => {
    const bridge = Wasmtube.fromFile(HOST_TEST, {
      hostFunctions: hostFunctions([], { now: { returns: 'f64', fn: async () => 1 } }),
    });
    await rejectsWithCode(bridge.callFunction('clock', { data: null }), 'ERR_HOST_FUNCTION');
  });

  it('a wrongly typed result is ERR_HOST_FUNCTION', async () => {
    const bridge = Wasmtube.fromFile(HOST_TEST, {
      hostFunctions: hostFunctions([], {
        upper: { params: ['string'], returns: 'string', fn: () => 42 },
      }),
    });
    await rejectsWithCode(
      bridge.callFunction('shout', { data: { text: 'x' } }),
      'ERR_HOST_FUNCTION',
    );
  });
});

describe('host functions in a Worker', () => {
  it('run in every thread from a hostModule', async () => {
    const worker = await startWorker({ wasmFile: HOST_TEST, hostModule, threads: 2 });
    expect(await worker.callFunction('shout', { data: { text: 'hi' } })).toEqual({
      upper: 'HI@thread',
    });
    expect(await worker.callFunction('add_many', { data: { n: 100 } })).toEqual({
      sum: 5050,
      calls: 100,
    });
  });

  it('run async on the main thread, 10,000 times within one call', async () => {
    const logged: string[] = [];
    let calls = 0;
    const functions = hostFunctions(logged, {
      add: {
        params: ['i32', 'i32'],
        returns: 'i32',
        fn: async (a: number, b: number) => {
          calls++;
          await Promise.resolve();
          return a + b;
        },
      },
      upper: {
        params: ['string'],
        returns: 'string',
        fn: async (s: string) => `${s.toUpperCase()}!`,
      },
    });
    const worker = await startWorker({ wasmFile: HOST_TEST, hostFunctions: functions, threads: 2 });
    expect(await worker.callFunction('add_many', { data: { n: 10_000 } })).toEqual({
      sum: 50_005_000,
      calls: 10_000,
    });
    expect(calls).toBe(10_000);
    expect(await worker.callFunction('shout', { data: { text: 'main' } })).toEqual({
      upper: 'MAIN!',
    });
    expect(logged).toEqual(['main']);
  });

  it('a main-thread host function that throws is ERR_HOST_FUNCTION; the thread keeps serving', async () => {
    const functions = hostFunctions([], {
      now: {
        returns: 'f64',
        fn: async () => {
          throw new Error('clock broke');
        },
      },
    });
    const worker = await startWorker({ wasmFile: HOST_TEST, hostFunctions: functions, threads: 1 });
    const error = await rejectsWithCode(
      worker.callFunction('clock', { data: null }),
      'ERR_HOST_FUNCTION',
    );
    expect(error.message).toContain('clock broke');
    expect(await worker.callFunction('add_many', { data: { n: 3 } })).toEqual({ sum: 6, calls: 3 });
    expect(worker.stats().restarts).toBe(0);
  });

  it('a host function that never resolves is bounded by the call timeout', async () => {
    const functions = hostFunctions([], {
      now: { returns: 'f64', fn: () => new Promise(() => {}) },
    });
    const worker = await startWorker({
      wasmFile: HOST_TEST,
      hostFunctions: functions,
      threads: 1,
      timeoutMs: 300,
    });
    await rejectsWithCode(worker.callFunction('clock', { data: null }), 'ERR_CALL_TIMEOUT');
    expect(await worker.callFunction('add_many', { data: { n: 2 } })).toEqual({ sum: 3, calls: 2 });
  });

  it('an ungranted import fails Worker.start', async () => {
    await rejectsWithCode(startWorker({ wasmFile: HOST_TEST, threads: 1 }), 'ERR_WASM_INSTANTIATE');
  });
});
