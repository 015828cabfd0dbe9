// WIT values in and out of a component (test/components/types): records, lists, options,
// results, variants, enums, flags and 64-bit integers, by typed call (JS) and by callFunction
// (JSON), checked against the WIT types before the guest runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wasmtube, type Worker } from '../dist/index.js';
import { fixture, rejectsWithCode } from './helpers.js';
import { startWorker } from './pool-helpers.js';

const TYPES = fixture('component_types');
let types: Wasmtube;
beforeAll(async () => {
  types = await Wasmtube.load(TYPES);
});

describe('records and options', () => {
  it('take a record with an absent or present option, by typed call and by JSON', async () => {
    expect(await types.call('greet', [{ name: 'Ada', age: 36 }])).toBe('Hello, Ada (36)!');
    expect(await types.call('greet', [{ name: 'Ada', age: 36, nickname: 'Countess' }])).toBe(
      'Hello, Countess (36)!',
    );
    expect(
      await types.callFunction('greet', { data: { p: { name: 'Ada', age: 36, nickname: null } } }),
    ).toBe('Hello, Ada (36)!');
  });

  it('return a record with WIT field names', async () => {
    expect(await types.call('birthday', [{ name: 'Ada', age: 36, nickname: 'Ace' }])).toEqual({
      name: 'Ada',
      age: 37,
      nickname: 'Ace the elder',
    });
    expect(await types.callFunction('birthday', { data: { p: { name: 'Bo', age: 1 } } })).toEqual({
      name: 'Bo',
      age: 2,
      nickname: 'the elder',
    });
  });

  it('option results: none is null in JSON, undefined by typed call', async () => {
    expect(await types.call('find', [['a', 'b', 'c'], 'c'])).toBe(2);
    expect(await types.call('find', [['a'], 'z'])).toBeUndefined();
    expect(await types.callFunction('find', { data: { names: [], wanted: 'z' } })).toBeNull();
  });
});

describe('lists and 64-bit integers', () => {
  it('sum a list<s32> into an s64', async () => {
    expect(await types.call('sum', [[1, 2, 3, -10]])).toBe(-4n);
    expect(await types.callFunction('sum', { data: { xs: [2 ** 31 - 1, 2 ** 31 - 1] } })).toBe(
      2 ** 32 - 2,
    );
  });

  it('u64/s64: bigints by typed call; JSON numbers when safe, decimal strings otherwise', async () => {
    expect(await types.call('increment', [2n ** 64n - 2n])).toBe(2n ** 64n - 1n);
    expect(await types.call('increment', [41])).toBe(42n);
    expect(await types.callFunction('increment', { data: { x: 41 } })).toBe(42);
    expect(await types.callFunction('increment', { data: { x: '18446744073709551614' } })).toBe(
      '18446744073709551615',
    );
    expect(await types.callFunction('negate', { data: { x: '-9007199254740993' } })).toBe(
      '9007199254740993',
    );
    await rejectsWithCode(types.call('increment', [-1n]), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(
      types.callFunction('increment', { data: { x: 1.5 } }),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('list<u8>: a Uint8Array by typed call, an array of numbers in JSON', async () => {
    expect([...(await types.call<Uint8Array>('reverse', [new Uint8Array([1, 2, 3])]))]).toEqual([
      3, 2, 1,
    ]);
    expect(await types.callFunction('reverse', { data: { bytes: [7, 8] } })).toEqual([8, 7]);
  });
});

describe('results, variants, enums, flags', () => {
  it('an ok result is its value; an err is ERR_GUEST_ERROR carrying the error value', async () => {
    expect(await types.call('divide', [7, 2])).toBe(3);
    const error = await rejectsWithCode(types.call('divide', [7, 0]), 'ERR_GUEST_ERROR');
    expect(error.details).toEqual({ name: 'divide', value: 'division by zero' });
    // An err is not a trap: the instance keeps serving.
    expect(types.instanceGeneration).toBe(1);
  });

  it('variants are { tag, val }', async () => {
    expect(await types.callFunction('area', { data: { s: { tag: 'rect', val: [2, 3] } } })).toBe(6);
    expect(await types.call('area', [{ tag: 'circle', val: 1 }])).toBeCloseTo(Math.PI);
    expect(await types.call('area', [{ tag: 'empty' }])).toBe(0);
  });

  it('enums are their case names; flags are objects of booleans, or arrays of names in', async () => {
    expect(await types.call('next-color', ['dark-blue'])).toBe('red');
    expect(await types.callFunction('next-color', { data: { c: 'red' } })).toBe('green');
    expect(await types.callFunction('invert', { data: { p: ['read', 'exec-all'] } })).toEqual({
      read: false,
      write: true,
      'exec-all': false,
    });
    expect(await types.call('invert', [{ write: true }])).toEqual({
      read: true,
      write: false,
      'exec-all': true,
    });
  });
});

describe('type mismatches are ERR_INVALID_ARGUMENT naming the value, before the guest runs', () => {
  it.each([
    ['greet', [{ name: 'Ada', age: 300 }], 'p.age'],
    ['greet', [{ name: 'Ada', age: 3, extra: 1 }], 'p'],
    ['greet', [{ age: 3 }], 'p.name'],
    ['area', [{ tag: 'triangle' }], 's'],
    ['area', [{ tag: 'rect', val: [1] }], 's.val'],
    ['next-color', ['blue'], 'c'],
    ['invert', [['read', 'delete']], 'p'],
    ['find', [['a', 2], 'a'], 'names[1]'],
    ['reverse', [[1, 2, 300]], 'bytes[2]'],
  ])('%s(%j) → %s', async (fn, args, path) => {
    const error = await rejectsWithCode(types.call(fn, args), 'ERR_INVALID_ARGUMENT');
    expect(error.details.path).toBe(path);
  });

  it('arity through typed calls and names through JSON are ERR_EXPORT_SIGNATURE', async () => {
    await rejectsWithCode(types.call('divide', [1]), 'ERR_EXPORT_SIGNATURE');
    await rejectsWithCode(types.callFunction('divide', { data: { a: 1 } }), 'ERR_EXPORT_SIGNATURE');
  });
});

describe('WIT values through a Worker', () => {
  let worker: Worker;
  beforeAll(async () => {
    worker = await startWorker({ wasmFile: TYPES, threads: 1 });
  });
  afterAll(() => worker.stop());

  it('records, bigints, bytes and errors cross the thread boundary', async () => {
    expect(await worker.call('birthday', [{ name: 'Ada', age: 36 }])).toEqual({
      name: 'Ada',
      age: 37,
      nickname: 'the elder',
    });
    expect(await worker.call('increment', [2n ** 63n])).toBe(2n ** 63n + 1n);
    expect(await worker.callFunction('increment', { data: { x: '9223372036854775808' } })).toBe(
      '9223372036854775809',
    );
    expect([...(await worker.call<Uint8Array>('reverse', [new Uint8Array([1, 2])]))]).toEqual([
      2, 1,
    ]);
    const error = await rejectsWithCode(worker.call('divide', [1, 0]), 'ERR_GUEST_ERROR');
    expect(error.details.value).toBe('division by zero');
    await rejectsWithCode(worker.call('next-color', ['blue']), 'ERR_INVALID_ARGUMENT');
  });
});
