/**
 * The main thread's end of a host channel (see `src/protocol/host-channel.ts`): runs the host
 * function a guest in a worker thread called, and answers.
 */
import type { MessagePort } from 'node:worker_threads';
import { asBuffer } from '../bridge/buffers.js';
import { debuglog } from 'node:util';
import {
  implementationOf,
  type HostFunction,
  type HostFunctions,
} from '../bridge/host-functions.js';
import { serializeError } from '../errors.js';
import {
  HostChannelFlag,
  WAPC_CHANNEL,
  type HostAnswer,
  type HostRequest,
} from '../protocol/host-channel.js';
import type { WorkerOptions } from './worker-types.js';

const debug = debuglog('wasmtube');

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
      const fn = implementationOf(functions[module]?.[name]);
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

/** What runs on the main thread for a worker's threads: host functions and waPC callbacks. */
export function mainThreadFunctions(
  options: Pick<WorkerOptions, 'hostFunctions' | 'hostCall' | 'logger'>,
): HostFunctions {
  const { hostFunctions, hostCall, logger } = options;
  const wapc: HostFunctions[string] = {};
  if (hostCall) wapc.hostCall = { fn: hostCall as HostFunction['fn'] };
  wapc.log = {
    fn: (logger ?? ((message: string) => debug('waPC guest: %s', message))) as HostFunction['fn'],
  };
  return { ...hostFunctions, [WAPC_CHANNEL]: wapc };
}
