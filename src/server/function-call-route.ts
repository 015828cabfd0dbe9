import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientGoneSignal } from './client-close.js';
import { ExportNotFoundError, type WasmtubeError } from '../errors.js';
import type { ImageInput } from '../types.js';
import type { GatewayLattice } from './gateway-lattice.js';
import { forHttp } from './http-advice.js';
import { CONTENT_TYPE, toBody, toCall } from './http-call.js';
import { callLikeInput } from './image-answer.js';
import { checkCallInput } from './image-guard.js';
import { answerFromLattice } from './lattice-call.js';
import { OK, type GatewayMetrics } from './metrics.js';
import { findModule, servingWorker } from './module-lookup.js';
import type { ModuleRegistry } from './module-registry.js';
import { TurnBatch } from './turn-batch.js';

interface CallRoute {
  Params: { module: string; fn: string };
  Querystring: Record<string, unknown>;
}

/** `POST /functions/:module/:fn`: calls a function of a module, the request body as its input. */
export function registerFunctionCallRoute(
  app: FastifyInstance,
  modules: ModuleRegistry,
  metrics: GatewayMetrics,
  lattice: () => GatewayLattice | undefined = () => undefined,
): void {
  const batch = new TurnBatch();
  app.post<CallRoute>('/functions/:module/:fn', (request, reply) => {
    // In a lattice, a module this host does not serve is called on a host that does.
    const member = lattice();
    if (member && modules.get(request.params.module)?.state !== 'serving') {
      return answerFromLattice(request, reply, member);
    }
    return callFunction(request, reply, modules, metrics, batch, member);
  });
}

async function callFunction(
  request: FastifyRequest<CallRoute>,
  reply: FastifyReply,
  modules: ModuleRegistry,
  metrics: GatewayMetrics,
  batch: TurnBatch,
  lattice?: GatewayLattice,
): Promise<FastifyReply> {
  const started = performance.now();
  const { module: name, fn } = request.params;
  const module = findModule(modules, name);
  servingWorker(module);
  const observe = (function_: string, outcome: string) =>
    metrics.observeCall(name, function_, outcome, (performance.now() - started) / 1000);
  // A waPC module exports `__guest_call` only: the function name is the operation.
  const target =
    module.functions.get(fn) ?? [...module.functions.values()].find((f) => f.convention === 'wapc');
  if (target === undefined) {
    observe('_unknown', ExportNotFoundError.code);
    const available = [...module.functions.keys()];
    const error = new ExportNotFoundError(
      `Module "${name}" exports no function "${fn}". Functions: ${available.join(', ') || '(none)'}.`,
      { details: { module: name, name: fn, available } },
    );
    metrics.window.noteError(name, fn.slice(0, 64), error.code, error.message.slice(0, 300));
    throw error;
  }
  const clientGone = clientGoneSignal(reply);
  try {
    const { input, returns, likeInput } = toCall({
      body: request.body,
      contentType: request.headers['content-type'],
      accept: request.headers.accept,
      query: request.query ?? {},
    });
    // Before anything is decoded: the function takes this kind of input, and an image is
    // within the module's maxImagePixels (read from its header).
    await checkCallInput(target, input, {
      module: name,
      maxImagePixels: module.settings.maxImagePixels,
    });
    // The module as it is now (a reload or undeploy may have happened during the check), and
    // no await between finding its worker and calling it: a swap cannot come in between. The
    // call starts at the end of the turn, with the calls of the other requests read in it.
    const { current, result, info, format } = await batch.run(async () => {
      const current = findModule(modules, name);
      const worker = servingWorker(current);
      const call =
        likeInput === undefined
          ? worker
              .callFunctionWithInfo(fn, input, { returns, signal: clientGone })
              .then((answer) => ({ ...answer, format: returns }))
          : callLikeInput(worker, fn, input as ImageInput, likeInput, {
              signal: clientGone,
              maxImagePixels: current.settings.maxImagePixels,
            });
      return { current, ...(await call) };
    });
    const version = current.versionOf(info.version);
    const hash = current.hashOf(version);
    reply
      .header('x-wasmtube-module', name)
      .header('x-wasmtube-version', String(version))
      .header(
        'server-timing',
        `queue;dur=${info.queuedMs.toFixed(1)}, run;dur=${info.runMs.toFixed(1)}`,
      )
      .type(CONTENT_TYPE[format]);
    if (hash) reply.header('x-wasmtube-module-hash', hash);
    if (lattice) {
      reply
        .header('x-wasmtube-host', lattice.hostId)
        .header('x-wasmtube-version', String(lattice.versionOf(name, hash) || version));
    }
    observe(fn, OK);
    return reply.send(toBody(result, format));
  } catch (error) {
    const code = (error as WasmtubeError).code ?? 'ERR_INTERNAL';
    observe(fn, code);
    const answer = forHttp(error);
    metrics.window.noteError(name, fn, code, (answer as Error).message ?? String(answer));
    throw answer;
  }
}
