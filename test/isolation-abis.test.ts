// isolation: 'call' with every ABI (Wasmtube, allocator, typed calls, waPC, WASI reactors), and
// the mutable globals the module does not export: AssemblyScript's bump allocator offset and
// Rust's __stack_pointer. The ready state includes what start functions did (_initialize,
// wapc_init), so calls keep working after each restore.
import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { fixture, WASM_TEST } from './helpers.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

describe("mutable globals the module does not export, with isolation: 'call'", () => {
  it("AssemblyScript's bump allocator starts from its ready offset on every call", async () => {
    const call = Wasmtube.fromFile(fixture('as_bump'), { isolation: 'call' });
    const instance = Wasmtube.fromFile(fixture('as_bump'), { isolation: 'instance' });
    const first = await call.call<number>('next_block', [1]);
    for (let i = 2; i < 50; i++) expect(await call.call('next_block', [i])).toBe(first);
    // The block the last call wrote was restored to what it held when ready.
    expect(await call.call('read_block', [first])).toBe(0);

    const a = await instance.call<number>('next_block', [1]);
    const b = await instance.call<number>('next_block', [2]);
    expect(b).toBeGreaterThan(a); // the offset moved on: state kept
    expect(await instance.call('read_block', [a])).toBe(1);
  });

  it("Rust's __stack_pointer is restored after a trap deep in the stack", () => {
    const call = Wasmtube.fromFile(fixture('isolation_test'), { isolation: 'call' });
    const sp = () =>
      call
        .callFunctionSync<Buffer>('stack_address', { bytes: Buffer.alloc(0) }, { returns: 'bytes' })
        .readUInt32LE(0);
    const before = sp();
    for (let i = 0; i < 20; i++) {
      expect(() =>
        call.callFunctionSync(
          'trap_after_keeping',
          { bytes: Buffer.from('x') },
          { returns: 'bytes' },
        ),
      ).toThrow(expect.objectContaining({ code: 'ERR_GUEST_TRAP' }));
      // A trap unwinds without the guest's epilogues: only the restore puts the pointer back.
      expect(sp()).toBe(before);
    }
    expect(call.instanceGeneration).toBe(1);
  });
});

describe("every ABI with isolation: 'call'", () => {
  it('Wasmtube ABI: the per-instance counter is 1 on every call', async () => {
    const bridge = Wasmtube.fromFile(WASM_TEST, { isolation: 'call' });
    for (let i = 0; i < 20; i++)
      expect(await bridge.callFunction('count', { data: {} })).toEqual({ count: 1 });
    expect(await bridge.callFunction('echo', { data: { a: [1, 2] } })).toEqual({ a: [1, 2] });
  });

  it('allocator ABI and typed calls: the counter is restored between calls of either kind', async () => {
    const bridge = Wasmtube.fromFile(fixture('alloc_test'), { isolation: 'call' });
    for (let i = 0; i < 10; i++) {
      await bridge.call('nothing'); // advances the counter, typed
      expect(await bridge.callFunction('count', { data: {} })).toEqual({ count: 1 });
    }
    expect(await bridge.call('greet', ['Ada'], { returns: 'string' })).toContain('Ada');
    const instance = Wasmtube.fromFile(fixture('alloc_test'));
    await instance.call('nothing');
    expect(await instance.callFunction('count', { data: {} })).toEqual({ count: 2 });
  });

  it('waPC: wapc_init runs once, its registrations are part of the ready state', async () => {
    const bridge = Wasmtube.fromFile(fixture('wapc_test'), { isolation: 'call' });
    for (let i = 0; i < 20; i++) {
      expect(text(await bridge.invoke('echo', Buffer.from(`m${i}`)))).toBe(`m${i}`);
    }
    await expect(bridge.invoke('trap')).rejects.toMatchObject({ code: 'ERR_GUEST_TRAP' });
    expect(text(await bridge.invoke('echo', Buffer.from('after')))).toBe('after');
    expect(text(await bridge.invoke('init_calls'))).toBe('1');
    expect(bridge.instanceGeneration).toBe(1); // restored after the trap, not re-instantiated
  });

  it('WASI reactor: _initialize ran once, calls see the environment, state does not carry over', async () => {
    const bridge = Wasmtube.fromFile(fixture('wasi_test'), {
      isolation: 'call',
      wasi: { env: { SHIFT: '5' } },
    });
    for (let i = 0; i < 20; i++) {
      expect(await bridge.callFunction('echo', { data: { i } })).toEqual({ i });
      expect(await bridge.callFunction('env_var', { data: { name: 'SHIFT' } })).toEqual(
        expect.objectContaining({ value: '5' }),
      );
    }
  });
});
