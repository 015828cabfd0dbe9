/**
 * Entry point of a worker thread: one instance of the module, reused across calls. piscina
 * imports this file and awaits its default export, so the thread reports ready only once the
 * instance exists.
 */
import { type MessagePort, parentPort, threadId, workerData } from 'node:worker_threads';
import { serializeError } from '../errors.js';
import type { ThreadData, ThreadStatusMessage } from '../protocol/messages.js';
import { CallServer } from './call-server.js';
import { createInstanceFactory, type InstanceFactory, type Serving } from './instance-factory.js';

const data = workerData as ThreadData;

async function start(): Promise<() => never> {
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
  // Calls arrive on the call channel, not as piscina tasks.
  return () => {
    throw new Error('wasmtube threads take calls on their call channel');
  };
}

function post(message: ThreadStatusMessage, transfer: MessagePort[] = []): void {
  parentPort?.postMessage(message, transfer);
}

export default start();
