// The Elixir library's own test cases (test/wasmtube_test.exs, test/wasmtube/bridge_test.exs),
// translated. Elixir's default index is 42; ours is a host region, so `.index(42)` is the legacy path.
import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { WASM_TEST, fixture, gradient, wasmTestBytes } from './helpers.js';

describe('Elixir Wasmtube compatibility', () => {
  it('from_binary/1', () => {
    expect(Wasmtube.fromBinary(wasmTestBytes())).toBeInstanceOf(Wasmtube);
  });

  it('from_file/1', () => {
    expect(Wasmtube.fromFile(WASM_TEST)).toBeInstanceOf(Wasmtube);
  });

  it('index/2', () => {
    const bridge = Wasmtube.fromFile(WASM_TEST).index(256);
    expect(bridge.placement).toEqual({ kind: 'offset', offset: 256 });
  });

  it('call_function/3 with data, at the default placement and at index 42', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const data = { args: 'Hello World!' };
    expect(await bridge.callFunction('echo', { data })).toEqual({ args: 'Hello World!' });
    expect(await bridge.index(42).callFunction('echo', { data })).toEqual({ args: 'Hello World!' });
  });

  it('call_function/3 with an image and its size', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const image = gradient(256, 256);
    expect(await bridge.callFunction('image_size', { image, width: 256, height: 256 })).toEqual({
      width: 256,
      height: 256,
    });
  });

  it('writes the payload at exactly the index, byte for byte', async () => {
    const bridge = Wasmtube.fromFile(fixture('echo_no_alloc')).index(42);
    const offset = bridge.writeBytes(Buffer.from('Hello World!'));
    expect(offset).toBe(42);
    expect(bridge.readBytes(42, 12).toString()).toBe('Hello World!');
    expect(await bridge.callFunction('echo', { data: { args: 'x' } })).toEqual({ args: 'x' });
    expect(bridge.readBytes(42, 12).toString()).toBe('{"args":"x"}');
  });

  it('write_binary/2 then read_binary/2 at the default placement', () => {
    const bridge = Wasmtube.fromFile(WASM_TEST);
    const offset = bridge.writeBytes(Buffer.from('Hello World!'));
    expect(bridge.readBytes(offset, 12).toString()).toBe('Hello World!');
  });
});
