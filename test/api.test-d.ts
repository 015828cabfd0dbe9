import { expectTypeOf, test } from 'vitest';
import { Wasmtube, type RgbImage } from '../dist/index.js';

test('callFunction result types follow the input and `returns`', () => {
  const bridge = Wasmtube.fromFile('x.wasm');
  expectTypeOf(bridge.callFunction('echo', { data: 1 })).toEqualTypeOf<Promise<unknown>>();
  expectTypeOf(bridge.callFunction<{ a: number }>('echo', { data: 1 })).toEqualTypeOf<
    Promise<{ a: number }>
  >();
  expectTypeOf(bridge.callFunction('echo', { bytes: new Uint8Array() })).toEqualTypeOf<
    Promise<Buffer>
  >();
  expectTypeOf(
    bridge.callFunction('f', { image: new Uint8Array(), width: 1, height: 1 }, { returns: 'rgb' }),
  ).toEqualTypeOf<Promise<RgbImage>>();
  expectTypeOf(
    bridge.callFunction('f', { image: new Uint8Array() }, { returns: 'png' }),
  ).toEqualTypeOf<Promise<Buffer>>();
  expectTypeOf(bridge.index(42)).toEqualTypeOf<Wasmtube>();
});

test('Worker.callFunction mirrors the bridge types', async () => {
  const { Worker } = await import('../dist/index.js');
  const worker = await Worker.start({ wasmFile: 'x.wasm' });
  expectTypeOf(worker.callFunction('echo', { data: 1 })).toEqualTypeOf<Promise<unknown>>();
  expectTypeOf(worker.callFunction('echo', { bytes: new Uint8Array() })).toEqualTypeOf<
    Promise<Buffer>
  >();
  expectTypeOf(
    worker.callFunction('f', { image: new Uint8Array() }, { returns: 'rgb', timeoutMs: 5 }),
  ).toEqualTypeOf<Promise<RgbImage>>();
  expectTypeOf(worker.stats().latencyMs.p99).toEqualTypeOf<number>();
  expectTypeOf(worker.version).toEqualTypeOf<number>();
});

test('isolation is one of two modes, on the bridge, the Worker and every export', async () => {
  const { Worker } = await import('../dist/index.js');
  type Isolation = import('../dist/index.js').Isolation;
  expectTypeOf<Isolation>().toEqualTypeOf<'instance' | 'call'>();
  const bridge = Wasmtube.fromFile('x.wasm', { isolation: 'call' });
  expectTypeOf(bridge.isolation).toEqualTypeOf<Isolation>();
  expectTypeOf(bridge.exports()[0]!.isolation).toEqualTypeOf<Isolation>();
  const worker = await Worker.start({ wasmFile: 'x.wasm', isolation: 'instance' });
  expectTypeOf(worker.exports()[0]!.isolation).toEqualTypeOf<Isolation>();
});

test('components: load, ready and plain host functions by interface', async () => {
  const cipher = await Wasmtube.load('caesar.wasm', {
    wasi: {},
    hostFunctions: { 'example:cipher/audit-log': { log: (message: string) => void message } },
  });
  expectTypeOf(cipher).toEqualTypeOf<Wasmtube>();
  expectTypeOf(Wasmtube.fromFile('caesar.wasm').ready).toEqualTypeOf<Promise<void>>();
  expectTypeOf(cipher.call<string>('encrypt', ['hello world'])).toEqualTypeOf<Promise<string>>();
  expectTypeOf(cipher.call('birthday', [{ name: 'Ada', age: 36 }])).toEqualTypeOf<
    Promise<unknown>
  >();
});
