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
