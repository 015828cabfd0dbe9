import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { WASM_TEST } from './helpers.js';

// inputKind tells data, bytes and image apart without building a list per call; the error for
// an input with none or several of them still names what it has.
describe('a call input carries exactly one of data, bytes or image', () => {
  const bridge = Wasmtube.fromFile(WASM_TEST);
  const bytes = new TextEncoder().encode('{"a":1}');

  it('takes each kind alone', async () => {
    expect(bridge.callFunctionSync('echo', { data: { a: 1 } })).toEqual({ a: 1 });
    expect([...bridge.callFunctionSync<Uint8Array>('echo', { bytes })]).toEqual([...bytes]);
    const image = new Uint8Array(12).fill(10);
    const inverted = await bridge.callFunction(
      'invert',
      { image, width: 2, height: 2 },
      { returns: 'rgb' },
    );
    expect([...(inverted as { pixels: Uint8Array }).pixels]).toEqual(Array(12).fill(245));
  });

  it.each([
    [{}, 'none'],
    [{ other: 1 }, 'none'],
    [{ data: 1, bytes }, 'data and bytes'],
    [{ bytes, image: bytes }, 'bytes and image'],
    [{ data: 1, bytes, image: bytes }, 'data and bytes and image'],
  ])('rejects %o: it has %s', (input, has) => {
    expect(() => bridge.callFunctionSync('echo', input as never)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: `The call input must have exactly one of data, bytes or image; it has ${has}.`,
      }),
    );
  });
});
