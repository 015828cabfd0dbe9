/**
 * Entry point of a worker thread: one instance of the module, reused across calls. piscina
 * imports this file and awaits its default export, so the thread reports ready only once the
 * instance exists.
 */
import {
  MessageChannel,
  type MessagePort,
  parentPort,
  receiveMessageOnPort,
  threadId,
  workerData,
} from 'node:worker_threads';
import { ProbeFailedError, serializeError } from '../errors.js';
import type { GuestHost } from '../bridge/guest-instance.js';
import {
  hostSignatures,
  invokeSync,
  type HostFunctions,
  type HostSignatures,
} from '../bridge/host-functions.js';
import { needsSharp } from '../bridge/payload.js';
import { Wasmtube } from '../wasmtube.js';
import { HostChannelClient, WAPC_CHANNEL } from './host-channel.js';
import { CallSlots, epochNow, now } from './call-slots.js';
import type { CompiledModule } from '../bridge/compiled-module.js';
import type {
  CallMessage,
  CallReply,
  ControlMessage,
  ControlReply,
  ThreadCallInfo,
  ThreadData,
  ThreadResponse,
  ThreadStatusMessage,
  ThreadTask,
} from './messages.js';
import { reply, stagingBuffer } from './transfer.js';

const data = workerData as ThreadData;
let hostChannel: HostChannelClient | undefined;

/** The instance calls run on, and the module version it is of. */
interface Serving {
  bridge: Wasmtube;
  version: number;
}

/** Instantiates a module version the way every thread does, probe included. */
type Instantiate = (compiled: CompiledModule, version: number) => Promise<Serving>;

async function start(): Promise<() => never> {
  let serving: Serving;
  let instantiate: Instantiate;
  try {
    const hostFunctions = data.hostModule ? await loadHostFunctions(data.hostModule) : undefined;
    const hooks = remote(hostFunctions);
    instantiate = async (compiled, version) => {
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
      const bridge = Wasmtube.fromCompiled(compiled, options, hooks);
      if (data.probe) await probe(bridge, data.probe, version);
      return { bridge, version };
    };
    serving = await instantiate(data.compiled, data.version);
  } catch (error) {
    post({
      wasmtube: 'start-failed',
      threadId,
      version: data.version,
      error: serializeError(error),
    });
    throw error;
  }
  serve(serving, instantiate);
  post({ wasmtube: 'ready', threadId, version: data.version });
  // Calls arrive on the call channel, not as piscina tasks.
  return () => {
    throw new Error('wasmtube threads take calls on their call channel');
  };
}

/**
 * Serves calls posted on this thread's call channel, one at a time. After a call it keeps
 * polling the channel for a short while (`spinUs`) before sleeping: waking a sleeping thread
 * costs tens of microseconds, more than most calls. A reload swaps the instance between calls
 * (control messages on the same channel: prepare, then commit or abort).
 */
function serve(first: Serving, instantiate: Instantiate): void {
  const { port1: port, port2 } = new MessageChannel();
  const slots = new CallSlots(data.slots);
  post(
    {
      wasmtube: 'call-channel',
      threadId,
      version: first.version,
      port: port2,
      slots: slots.buffer,
    },
    [port2],
  );
  let serving = first;
  /** A version instantiated for a reload, waiting for the supervisor's commit or abort. */
  let prepared: { id: number; ready?: Serving } | undefined;
  const backlog: CallMessage[] = [];
  const spinMs = data.spinUs / 1000;
  let busy = false;
  let callsOnInstance = 0;
  let instanceBornAt = Date.now();
  const { maxCallsPerInstance, maxInstanceAgeMs, maxMemoryBytes } = data.recycle;

  // A call's reply leaves as soon as it finishes, before the next call starts: a reply held
  // back for a batch would die with the thread if the next call then had it terminated
  // (timeout, abort). Skips of withdrawn calls ride along with the next reply.
  let replies: CallReply[] = [];
  let transfers: ArrayBuffer[] = [];
  const flush = () => {
    if (replies.length === 0) return;
    port.postMessage(replies, transfers);
    replies = [];
    transfers = [];
  };
  /** Set when the main thread claimed the call that just ran, to terminate this thread. */
  let doomed = false;
  const poll = (): boolean => {
    const received = receiveMessageOnPort(port);
    if (received) accept(received.message as CallMessage[] | ControlMessage);
    return received !== undefined;
  };

  function accept(message: CallMessage[] | ControlMessage): void {
    if (Array.isArray(message)) backlog.push(...message);
    else control(message);
  }

  /**
   * Reload steps, taken as they arrive (between calls, never during one): a commit applies to
   * calls already waiting here too, since none of them has started.
   */
  function control(message: ControlMessage): void {
    if (message.control === 'prepare') {
      const { id, compiled, version } = message;
      const entry: { id: number; ready?: Serving } = { id };
      prepared = entry;
      instantiate(compiled, version).then(
        (ready) => {
          entry.ready = ready;
          port.postMessage({ control: 'prepared', id } satisfies ControlReply);
        },
        (error: unknown) => {
          if (prepared === entry) prepared = undefined;
          port.postMessage({
            control: 'prepared',
            id,
            error: serializeError(error),
          } satisfies ControlReply);
        },
      );
      return;
    }
    const entry = prepared;
    if (entry?.id !== message.id) return;
    prepared = undefined;
    // The supervisor commits only once every thread said prepared, so `ready` is there.
    if (message.control === 'commit' && entry.ready) {
      serving = entry.ready;
      callsOnInstance = 0;
      instanceBornAt = Date.now();
    }
  }

  const next = (): CallMessage | undefined => {
    if (slots.takeControl()) while (poll());
    if (backlog.length === 0) poll();
    if (backlog.length > 0 || spinMs <= 0) return backlog.shift();
    const until = now() + spinMs;
    while (now() < until) if (poll()) return backlog.shift();
    return undefined;
  };

  const drain = async () => {
    busy = true;
    while (!doomed) {
      const message = next();
      if (!message) break;
      await runOne(message);
    }
    if (!doomed) flush();
    busy = false;
  };

  port.on('message', (message: CallMessage[] | ControlMessage) => {
    if (doomed) return;
    accept(message);
    if (!busy && backlog.length > 0) void drain();
  });

  async function runOne({ slot, task }: CallMessage): Promise<void> {
    const startedAt = epochNow();
    // The whole call runs on one version, even if a commit arrives while it awaits.
    const current = serving;
    const { bridge } = current;
    const staging = stagingBuffer(task);
    if (!slots.start(slot, startedAt)) {
      answer(slot, undefined, staging);
      return;
    }
    if (hostChannel) hostChannel.timeoutMs = task.timeoutMs > 0 ? task.timeoutMs + 1000 : Infinity;
    let response: ThreadResponse;
    try {
      const value = task.run
        ? await bridge.run(task.run)
        : task.typed
          ? await bridge.call(task.fn, task.typed.args, task.typed.options)
          : await callFunction(bridge, task, task.resultBuffer ?? staging);
      response = { ok: true, value, info: info(current, startedAt) };
    } catch (error) {
      response = { ok: false, error: serializeError(error), info: info(current, startedAt) };
    }
    if (!slots.finish(slot)) {
      // Claimed for termination while it ran: start nothing else; the thread is going away.
      doomed = true;
      return;
    }
    // Recycle between calls, never during one: the next call gets a fresh instance. (An
    // instance a reload replaced during the call is dropped anyway.)
    callsOnInstance++;
    if (serving === current) {
      if (
        callsOnInstance >= maxCallsPerInstance ||
        Date.now() - instanceBornAt >= maxInstanceAgeMs ||
        bridge.memoryBytes > maxMemoryBytes
      ) {
        bridge.reset();
      }
      if (bridge.instanceGeneration !== response.info.instance) {
        callsOnInstance = 0;
        instanceBornAt = Date.now();
      }
    }
    answer(slot, response, staging);
    flush();
  }

  /** Queues a call's reply (or its skip) for the next flush, with the buffers it moves. */
  function answer(
    slot: number,
    response: ThreadResponse | undefined,
    staging: Uint8Array | undefined,
  ): void {
    const { message, transfer } = reply(slot, response, staging);
    replies.push(message);
    transfers.push(...transfer);
  }

  /** Without a promise when nothing needs sharp: most calls, and the cheapest way to run them. */
  function callFunction(
    bridge: Wasmtube,
    task: ThreadTask,
    resultBuffer: Uint8Array | undefined,
  ): unknown {
    const input = task.input!;
    const options = { returns: task.returns, resultBuffer };
    return needsSharp(input, task.returns)
      ? bridge.callFunction(task.fn, input, options)
      : bridge.callFunctionSync(task.fn, input, options);
  }

  function info({ bridge, version }: Serving, startedAt: number): ThreadCallInfo {
    const { stdout, stderr } = bridge.lastOutput;
    return {
      ...(stdout && { stdout }),
      ...(stderr && { stderr }),
      threadId,
      version,
      instance: bridge.instanceGeneration,
      startedAt,
      finishedAt: epochNow(),
    };
  }
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

/**
 * What runs on the main thread, reached through a host channel: host functions (combined with
 * the thread's own from hostModule, which take precedence) and waPC callbacks.
 */
function remote(local: HostFunctions | undefined): Parameters<typeof Wasmtube.fromCompiled>[2] {
  if (!data.remoteHost && !data.remoteWapc) return undefined;
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
  return { host, wapc: wapc || undefined };
}

function openHostChannel(): HostChannelClient {
  const client = new HostChannelClient();
  hostChannel = client;
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

function post(message: ThreadStatusMessage, transfer: MessagePort[] = []): void {
  parentPort?.postMessage(message, transfer);
}

export default start();
