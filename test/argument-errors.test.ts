import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wasmtube, Worker } from '../dist/index.js';
import { WASM_TEST, rejectsWithCode, throwsWithCode, wasmTestBytes } from './helpers.js';

const INVALID = 'ERR_INVALID_ARGUMENT';

/** A view whose ArrayBuffer was transferred away. */
function detached(length = 8): Uint8Array {
  const view = new Uint8Array(length);
  structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
}

/** The bad image sizes of the reliability issue's item 5, with an 18-byte (2x3) image. */
const BAD_SIZES: [unknown, unknown][] = [
  [-2, -3],
  [1.5, 4],
  ['2', '3'],
  [0, 0],
  [2n, 3n],
];
const image = (width: unknown, height: unknown) =>
  ({ image: new Uint8Array(18), width, height }) as never;

describe('argument errors: the in-process bridge', () => {
  const bridge = Wasmtube.fromFile(WASM_TEST);

  it.each(BAD_SIZES)(
    'image %s x %s is rejected by callFunction and callFunctionSync',
    async (w, h) => {
      const error = await rejectsWithCode(bridge.callFunction('image_size', image(w, h)), INVALID);
      expect(error.message).toMatch(/width/);
      const sync = throwsWithCode(
        () => bridge.callFunctionSync('image_size', image(w, h)),
        INVALID,
      );
      expect(sync.message).toMatch(/width/);
    },
  );

  it('raw RGB of the wrong length is ERR_IMAGE_SIZE_MISMATCH on the sync path too', () => {
    throwsWithCode(
      () => bridge.callFunctionSync('image_size', image(2, 2)),
      'ERR_IMAGE_SIZE_MISMATCH',
    );
  });

  it('null or array options name the options', async () => {
    for (const options of [null, [], 5]) {
      const error = await rejectsWithCode(
        bridge.callFunction('echo', { data: 1 }, options as never),
        INVALID,
      );
      expect(error.message).toMatch(/options/);
      expect(
        throwsWithCode(
          () => bridge.callFunctionSync('echo', { data: 1 }, options as never),
          INVALID,
        ).message,
      ).toMatch(/options/);
      await rejectsWithCode(bridge.call('echo', [], options as never), INVALID);
      await rejectsWithCode(bridge.run(options as never), INVALID);
    }
  });

  it('a signal that is not an AbortSignal is named', async () => {
    for (const signal of [{ aborted: false }, 5, 'x']) {
      const error = await rejectsWithCode(
        bridge.callFunction('echo', { data: 1 }, { signal } as never),
        INVALID,
      );
      expect(error.message).toMatch(/options\.signal/);
      await rejectsWithCode(bridge.call('echo', [], { signal } as never), INVALID);
    }
  });

  it('detached buffers are named', async () => {
    let error = await rejectsWithCode(bridge.callFunction('echo', { bytes: detached() }), INVALID);
    expect(error.message).toMatch(/bytes.*detached/);
    error = await rejectsWithCode(bridge.callFunction('echo', { image: detached() }), INVALID);
    expect(error.message).toMatch(/image.*detached/);
    error = await rejectsWithCode(
      bridge.callFunction('echo', { bytes: new Uint8Array(2) }, { resultBuffer: detached() }),
      INVALID,
    );
    expect(error.message).toMatch(/resultBuffer/);
    await rejectsWithCode(bridge.invoke('echo', detached()), INVALID);
    throwsWithCode(() => Wasmtube.fromBinary(detached()), INVALID);
    throwsWithCode(() => bridge.writeBytes(detached()), INVALID);
  });

  it('fromBinary / fromFile options that are not an object', () => {
    for (const options of [[], null, 5]) {
      const error = throwsWithCode(
        () => Wasmtube.fromBinary(wasmTestBytes(), options as never),
        INVALID,
      );
      expect(error.message).toMatch(/options/);
      throwsWithCode(() => Wasmtube.fromFile(WASM_TEST, options as never), INVALID);
    }
  });

  it('resultHeadroomBytes out of range is named, up front', () => {
    for (const resultHeadroomBytes of [2 ** 40, -1, 1.5, 2n]) {
      const error = throwsWithCode(
        () => Wasmtube.fromFile(WASM_TEST, { resultHeadroomBytes } as never),
        INVALID,
      );
      expect(error.message).toMatch(/resultHeadroomBytes/);
    }
    const error = throwsWithCode(
      () => Wasmtube.fromFile(WASM_TEST, { resultHeadroomBytes: 64 * 2 ** 20, maxMemoryMb: 64 }),
      INVALID,
    );
    expect(error.message).toMatch(/resultHeadroomBytes.*maxMemoryMb/);
  });

  it('typed calls: Symbols, functions and bad params are named', async () => {
    await rejectsWithCode(bridge.call('echo', [Symbol('s')]), INVALID);
    await rejectsWithCode(bridge.call('echo', [() => 1]), INVALID);
    const error = await rejectsWithCode(
      bridge.call('echo', [], { params: 'i32' } as never),
      INVALID,
    );
    expect(error.message).toMatch(/options\.params/);
  });
});

describe('argument errors: a Worker', () => {
  let worker: Worker;
  beforeAll(async () => {
    worker = await Worker.start({ wasmFile: WASM_TEST, threads: 1, spareThreads: 0 });
  });
  afterAll(() => worker.stop({ timeoutMs: 1000 }));

  it.each(BAD_SIZES)('image %s x %s is rejected before it reaches a thread', async (w, h) => {
    const error = await rejectsWithCode(worker.callFunction('image_size', image(w, h)), INVALID);
    expect(error.message).toMatch(/width/);
  });

  it('options that are not an object, and bad per-call options, are named', async () => {
    for (const options of [null, [], 5]) {
      await rejectsWithCode(worker.callFunction('echo', { data: 1 }, options as never), INVALID);
      await rejectsWithCode(worker.call('add', [1, 2], options as never), INVALID);
      await rejectsWithCode(worker.run(options as never), INVALID);
    }
    for (const [key, value] of [
      ['signal', { aborted: false }],
      ['timeoutMs', -1],
      ['timeoutMs', 2n],
      ['retry', Symbol('r')],
      ['resultBuffer', detached()],
      ['returns', Symbol('x')],
    ] as const) {
      const error = await rejectsWithCode(
        worker.callFunction('echo', { data: 1 }, { [key]: value } as never),
        INVALID,
      );
      expect(error.message).toContain(key);
    }
  });

  it('values a thread could not receive are rejected on the calling thread', async () => {
    await rejectsWithCode(worker.call('add', [Symbol('s'), 1]), INVALID);
    await rejectsWithCode(worker.call('add', [1, 2], { returns: Symbol('r') } as never), INVALID);
    await rejectsWithCode(worker.call('add', [1, 2], { params: [() => 1] } as never), INVALID);
    await rejectsWithCode(worker.callFunction('echo', { bytes: detached() }), INVALID);
    await rejectsWithCode(worker.run({ stdin: detached() } as never), INVALID);
    expect(await worker.callFunction('echo', { data: 'still here' })).toBe('still here');
  });

  it('Worker.start rejects bad options, naming them', async () => {
    const cases: [string, unknown][] = [
      ['threads', 2 ** 40],
      ['resultHeadroomBytes', 2 ** 40],
      ['startTimeoutMs', 2 ** 40],
      ['wasmBinary', detached()],
      ['importsModule', '/no/such/module.mjs'],
      ['wasi', new Uint8Array(2)],
      ['resourceLimits', 5],
    ];
    for (const [key, value] of cases) {
      const base = key === 'wasmBinary' ? {} : { wasmFile: WASM_TEST };
      const error = await rejectsWithCode(
        Worker.start({ ...base, threads: 1, [key]: value } as never),
        INVALID,
      );
      expect(error.message).toContain(key);
    }
    for (const options of [null, [], 5]) {
      await rejectsWithCode(Worker.start(options as never), INVALID);
    }
  });

  it('stop() rejects bad options, naming them, and still stops when asked properly', async () => {
    const other = await Worker.start({ wasmFile: WASM_TEST, threads: 1, spareThreads: 0 });
    for (const options of [null, [], { timeoutMs: 'soon' }, { timeoutMs: -1 }, { wait: 1 }]) {
      const error = await rejectsWithCode(other.stop(options as never), INVALID);
      expect(error.message).toMatch(/stop|timeoutMs|wait/);
    }
    expect(other.state).toBe('running');
    const slow = other.callFunction('echo', { data: 'drained' });
    // Infinity (or anything past a Node timer's range) waits for the calls to finish.
    await other.stop({ timeoutMs: Infinity });
    expect(await slow).toBe('drained');
    expect(other.state).toBe('stopped');
  });
});
