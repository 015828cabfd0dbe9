import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ThreadLink } from '../dist/supervisor/thread-link.js';
import { CallSlots } from '../dist/protocol/call-slots.js';

describe('ThreadLink', () => {
  it('a call that cannot be cloned fails alone; the calls posted with it still leave', async () => {
    const { port1, port2 } = new MessageChannel();
    const unsendable: unknown[] = [];
    const link = new ThreadLink(
      {} as never,
      1,
      0,
      port1,
      new CallSlots(4).buffer,
      () => undefined,
      (call, error) => unsendable.push({ call, error: error.name }),
    );
    const call = () => ({
      slot: -1,
      attach(_link: unknown, slot: number) {
        this.slot = slot;
      },
      detach() {},
    });
    const good = call();
    const bad = call();
    const task = (input: unknown) =>
      ({
        fn: 'echo',
        input,
        returns: undefined,
        typed: undefined,
        run: undefined,
        timeoutMs: 0,
      }) as never;
    link.post(good, task({ data: 1 }), []);
    link.post(bad, task({ data: () => 1 }), []);
    await Promise.resolve();
    expect(unsendable).toEqual([{ call: bad, error: 'DataCloneError' }]);
    expect(link.load).toBe(1);
    expect(link.capacity).toBe(3);
    const sent = receiveMessageOnPort(port2)?.message as { slot: number }[];
    expect(sent.map((m) => m.slot)).toEqual([good.slot]);
    link.close();
    port2.close();
  });
});
