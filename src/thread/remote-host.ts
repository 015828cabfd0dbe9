/**
 * What a guest in this thread reaches on the main thread, through a host channel: host functions
 * (combined with the thread's own from hostModule, which take precedence) and waPC callbacks.
 */
import { parentPort, threadId } from 'node:worker_threads';
import type { GuestHost } from '../bridge/guest-instance.js';
import {
  hostSignatures,
  invokeSync,
  type HostFunctions,
  type HostSignatures,
} from '../bridge/host-functions.js';
import { WAPC_CHANNEL } from '../protocol/host-channel.js';
import type { ThreadData, ThreadStatusMessage } from '../protocol/messages.js';
import type { Wasmtube } from '../wasmtube.js';
import { HostChannelClient } from './host-channel-client.js';

/** The hooks a thread's instances get, and the host channel they call through. */
export interface RemoteHost {
  hooks: Parameters<typeof Wasmtube.fromCompiled>[2];
  /** Absent when nothing runs on the main thread. */
  channel: HostChannelClient | undefined;
}

/**
 * Opens this thread's host channel (and hands its end to the main thread) when the pool has
 * main-thread host functions or waPC callbacks.
 */
export function remoteHost(data: ThreadData, local: HostFunctions | undefined): RemoteHost {
  if (!data.remoteHost && !data.remoteWapc) return { hooks: undefined, channel: undefined };
  const client = openHostChannel();
  let host: GuestHost | undefined;
  if (data.remoteHost) {
    const signatures: HostSignatures = { ...data.remoteHost };
    for (const [module, entries] of Object.entries(local ? hostSignatures(local) : {})) {
      signatures[module] = { ...signatures[module], ...entries };
    }
    const runLocal = local && invokeSync(local);
    host = {
      signatures,
      invoke: (module, name, args) =>
        runLocal && local[module]?.[name]
          ? runLocal(module, name, args)
          : client.call(module, name, args),
    };
  }
  const wapc = data.remoteWapc && {
    hostCall: (binding: string, namespace: string, operation: string, payload: Buffer) =>
      client.call(WAPC_CHANNEL, 'hostCall', [binding, namespace, operation, payload]),
    log: (message: string) => void client.call(WAPC_CHANNEL, 'log', [message]),
  };
  return { hooks: { host, wapc: wapc || undefined }, channel: client };
}

function openHostChannel(): HostChannelClient {
  const client = new HostChannelClient();
  parentPort!.postMessage(
    {
      wasmtube: 'host-channel',
      threadId,
      port: client.remotePort,
      buffer: client.buffer,
    } satisfies ThreadStatusMessage,
    [client.remotePort],
  );
  return client;
}
