import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientGoneSignal } from './client-close.js';
import { checkModuleName } from './safe-path.js';
import type { GatewayLattice } from './gateway-lattice.js';
import { forHttp } from './http-advice.js';
import { CONTENT_TYPE, toBody, toCall } from './http-call.js';

/**
 * Answers `POST /functions/:module/:fn` for a module this host does not serve, from a host of
 * the lattice that does; `x-wasmtube-host` names it. Errors are the remote call's own (a module
 * no host serves: 404 `ERR_MODULE_NOT_FOUND`).
 */
export async function answerFromLattice(
  request: FastifyRequest<{
    Params: { module: string; fn: string };
    Querystring: Record<string, unknown>;
  }>,
  reply: FastifyReply,
  lattice: GatewayLattice,
): Promise<FastifyReply> {
  const { module, fn } = request.params;
  checkModuleName(module);
  const { input, returns } = toCall({
    body: request.body,
    contentType: request.headers['content-type'],
    accept: request.headers.accept,
    query: request.query ?? {},
  });
  const clientGone = clientGoneSignal(reply);
  try {
    const served = await lattice.callFunction(module, fn, input, {
      returns,
      signal: clientGone,
    });
    reply
      .header('x-wasmtube-module', module)
      .header('x-wasmtube-version', String(served.version))
      .header('x-wasmtube-host', served.host)
      .type(CONTENT_TYPE[returns]);
    if (served.hash) reply.header('x-wasmtube-module-hash', served.hash);
    return reply.send(toBody(served.result, returns));
  } catch (error) {
    // The remote host's library wording, in HTTP terms.
    throw forHttp(error);
  }
}
