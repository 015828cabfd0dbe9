// Main-thread side of bare-thread.mjs.
import { once } from 'node:events';
import { Worker as NodeWorker } from 'node:worker_threads';
import { FIXTURE } from '../lib.mjs';
import { AtomicsClient, createChannel } from './atomics-channel.mjs';

const ENTRY = new URL('./bare-thread.mjs', import.meta.url);

/**
 * A bare thread answering messages; `call(op, bytes, { width, height, transfer })` resolves the
 * result bytes. Any number of calls may be in flight (they are matched by id).
 * `transfer: true` moves `bytes` to the thread (the caller loses it) and the result back.
 */
export async function startPortThread(wasm = FIXTURE) {
  const thread = new NodeWorker(ENTRY, { workerData: { wasm, channel: 'port' } });
  await once(thread, 'message');
  const pending = new Map();
  let nextId = 0;
  thread.on('message', ({ id, bytes }) => {
    const resolve = pending.get(id);
    pending.delete(id);
    resolve(bytes);
  });
  return {
    call(op, bytes, { width, height, transfer = false } = {}) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        thread.postMessage(
          { id, op, bytes, width, height, transfer },
          transfer ? [bytes.buffer] : [],
        );
      });
    },
    terminate: () => thread.terminate(),
  };
}

/**
 * A bare thread served through a SharedArrayBuffer + Atomics channel (see atomics-channel.mjs);
 * with `spin` the thread polls instead of sleeping (call it with `callSpin`).
 */
export async function startAtomicsThread(wasm = FIXTURE, { spin = false } = {}) {
  const sab = createChannel();
  const channel = spin ? 'atomics-spin' : 'atomics';
  const thread = new NodeWorker(ENTRY, { workerData: { wasm, channel, sab } });
  await once(thread, 'message');
  const client = new AtomicsClient(sab);
  return {
    call: (bytes) => client.call(bytes),
    callSync: (bytes) => client.callSync(bytes),
    callSpin: (bytes) => client.callSpin(bytes),
    async terminate() {
      client.stop();
      await once(thread, 'exit');
    },
  };
}
