/**
 * The main thread's end of a host channel (see `src/protocol/host-channel.ts`): runs the host
 * function a guest in a worker thread called, and answers.
 */
import type { MessagePort } from 'node:worker_threads';
import { asBuffer } from '../bridge/buffers.js';
import type { HostFunctions } from '../bridge/host-functions.js';
import { serializeError } from '../errors.js';
import { HostChannelFlag, type HostAnswer, type HostRequest } from '../protocol/host-channel.js';

/** Answers the host calls of one thread, posted on `port`, with `functions`. */
export function serveHostChannel(
  port: MessagePort,
  buffer: SharedArrayBuffer,
  functions: HostFunctions,
): void {
  const flag = new HostChannelFlag(buffer);
  port.on('message', async ({ id, module, name, args }: HostRequest) => {
    let answer: HostAnswer;
    try {
      const fn = functions[module]?.[name]?.fn as ((...a: unknown[]) => unknown) | undefined;
      if (!fn) throw new Error(`${module}.${name} is not a main-thread host function`);
      // Buffers arrive as Uint8Arrays after crossing threads; host code gets Buffers, as in-process.
      const revived = args.map((a) => (a instanceof Uint8Array ? asBuffer(a) : a));
      answer = { id, ok: true, value: await fn(...revived) };
    } catch (error) {
      answer = { id, ok: false, error: serializeError(error) };
    }
    try {
      port.postMessage(answer);
    } catch (error) {
      port.postMessage({ id, ok: false, error: serializeError(error) } satisfies HostAnswer);
    }
    flag.raise();
  });
  // Serving host calls must not keep the process alive on its own.
  port.unref();
}
