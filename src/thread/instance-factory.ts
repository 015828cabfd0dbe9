/**
 * How a thread creates the instance its calls run on: at start, and for each version an
 * in-place reload prepares.
 */
import { threadId } from 'node:worker_threads';
import type { CompiledModule } from '../bridge/compiled-module.js';
import type { HostFunctions } from '../bridge/host-functions.js';
import { ProbeFailedError } from '../errors.js';
import type { ThreadData } from '../protocol/messages.js';
import { Wasmtube } from '../wasmtube.js';
import type { HostChannelClient } from './host-channel-client.js';
import { remoteHost } from './remote-host.js';

/** The instance calls run on, and the module version it is of. */
export interface Serving {
  bridge: Wasmtube;
  version: number;
}

/** Instantiates a module version the way every thread does, probe included. */
export type Instantiate = (compiled: CompiledModule, version: number) => Promise<Serving>;

/** A thread's way to instantiate, and the host channel its instances call through. */
export interface InstanceFactory {
  instantiate: Instantiate;
  hostChannel: HostChannelClient | undefined;
}

/** Loads the thread's host functions and opens its host channel, once per thread. */
export async function createInstanceFactory(data: ThreadData): Promise<InstanceFactory> {
  const hostFunctions = data.hostModule ? await loadHostFunctions(data.hostModule) : undefined;
  const { hooks, channel } = remoteHost(data, hostFunctions);
  const instantiate: Instantiate = async (compiled, version) => {
    // The imports factory runs per instance of a version, as it does per new thread.
    const imports = data.importsModule ? await loadImports(data.importsModule) : undefined;
    const options = {
      resultHeadroomBytes: data.resultHeadroomBytes,
      maxImagePixels: data.maxImagePixels,
      imports,
      wasi: data.wasi,
      abi: data.abi,
      hostFunctions,
    };
    // 'call' isolation: the thread restores after posting the reply (CallServer), off the path.
    const bridge = Wasmtube.fromCompiled(compiled, options, { ...hooks, deferRestore: true });
    if (data.probe) await probe(bridge, data.probe, version);
    return { bridge, version };
  };
  return { instantiate, hostChannel: channel };
}

/** Runs the probe call, then resets the instance so traffic starts from a clean state. */
async function probe(
  bridge: Wasmtube,
  { fn, input }: NonNullable<ThreadData['probe']>,
  version: number,
) {
  try {
    await bridge.callFunction(fn, input, { returns: 'bytes' });
  } catch (error) {
    throw new ProbeFailedError(
      `The probe call ${fn} failed on a new instance of version ${version}: ` +
        `${(error as Error).message}`,
      { cause: error, details: { fn, version } },
    );
  }
  bridge.reset();
}

async function loadHostFunctions(specifier: string): Promise<HostFunctions> {
  const module = (await import(specifier)) as { hostFunctions?: unknown; default?: unknown };
  const functions = module.hostFunctions ?? module.default;
  if (typeof functions !== 'object' || functions === null) {
    throw new TypeError(
      `${specifier} must export hostFunctions (or a default) describing host functions`,
    );
  }
  return functions as HostFunctions;
}

async function loadImports(specifier: string): Promise<WebAssembly.Imports> {
  const module = (await import(specifier)) as { default?: unknown };
  const factory = module.default;
  const imports = typeof factory === 'function' ? await factory({ threadId }) : factory;
  if (typeof imports !== 'object' || imports === null) {
    throw new TypeError(
      `${specifier} must export default an imports object or a function returning one`,
    );
  }
  return imports as WebAssembly.Imports;
}
