/**
 * Entry point of a worker thread: one instance of the module, reused across calls. piscina
 * imports this file and awaits its default export (the thread's task handler), so a thread
 * started on a module reports ready only once the instance exists. A blank thread (see
 * blank-thread.ts) starts with no module and becomes one when its first task names it.
 */
import { type MessagePort, parentPort, threadId, workerData } from 'node:worker_threads';
import { serializeError } from '../errors.js';
import type { ThreadData, ThreadStatusMessage } from '../protocol/messages.js';
import { isBlankThreadData } from './blank-thread.js';
import { CallServer } from './call-server.js';
import { createInstanceFactory, type InstanceFactory, type Serving } from './instance-factory.js';

/** Calls arrive on the call channel, not as piscina tasks. */
function noTasks(): never {
  throw new Error('wasmtube threads take calls on their call channel');
}

/** Instantiates `data`'s module and opens the call channel; rejects if it cannot. */
async function become(data: ThreadData): Promise<void> {
  let factory: InstanceFactory;
  let first: Serving;
  try {
    factory = await createInstanceFactory(data);
    first = await factory.instantiate(data.compiled, data.version);
  } catch (error) {
    post({
      wasmtube: 'start-failed',
      threadId,
      version: data.version,
      error: serializeError(error),
    });
    throw error;
  }
  const server = new CallServer(first, factory.instantiate, factory.hostChannel, data);
  post(
    {
      wasmtube: 'call-channel',
      threadId,
      version: first.version,
      port: server.remotePort,
      slots: server.slotBuffer,
    },
    [server.remotePort],
  );
  post({ wasmtube: 'ready', threadId, version: data.version });
}

/** A blank thread's handler: its one task is the module to serve; later tasks are refused. */
function blankHandler(): (data: ThreadData) => Promise<void> {
  let claimed = false;
  return (data) => {
    if (claimed) noTasks();
    claimed = true;
    return become(data);
  };
}

function post(message: ThreadStatusMessage, transfer: MessagePort[] = []): void {
  parentPort?.postMessage(message, transfer);
}

/**
 * A thread started on a module. Should a claimed blank thread die before its task arrives, its
 * replacement starts on the module (the piscina's workerData) and gets the task: nothing to do.
 */
async function startedHandler(task: unknown): Promise<void> {
  if (!(typeof task === 'object' && task !== null && 'compiled' in task)) noTasks();
}

export default isBlankThreadData(workerData)
  ? Promise.resolve(blankHandler())
  : become(workerData as ThreadData).then(() => startedHandler);
