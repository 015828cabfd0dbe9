import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { RouteNotFoundError, UnauthorizedError } from './gateway-errors.js';
import { CONTENT_TYPE } from './http-call.js';
import { errorBody, fromClientError, rawErrorResponse, toHttpError } from './http-errors.js';

const ROUTES =
  'Routes: POST /functions/:module/:function, GET /functions, GET /functions/:module, ' +
  'GET /healthz, GET /metrics, GET / (the dashboard), GET /events, GET /admin/status, ' +
  'GET /admin/logs, PUT|DELETE /admin/modules/:module, POST /admin/modules/:module/reload.';

/** Answers a failed request with the gateway's error body, status and headers. */
export function sendErrorAnswer(
  thrown: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const answer = toHttpError(thrown);
  if (answer.status >= 500 && ![503, 504].includes(answer.status)) {
    request.log.error({ err: answer.error, code: answer.code }, 'request failed');
  } else {
    request.log.info({ code: answer.code, status: answer.status }, answer.message);
  }
  if (answer.retryAfterS !== undefined) reply.header('retry-after', String(answer.retryAfterS));
  if (answer.code === UnauthorizedError.code) {
    reply.header('www-authenticate', 'Bearer realm="wasmtube"');
  }
  return reply
    .code(answer.status)
    .type(CONTENT_TYPE.json)
    .send(errorBody(answer.code, answer.message));
}

/** @throws `ERR_ROUTE_NOT_FOUND` for a request no route matches, with the routes there are */
export function routeNotFound(request: FastifyRequest): never {
  throw new RouteNotFoundError(
    `No route for ${request.method} ${request.url.split('?')[0]}. ${ROUTES}`,
  );
}

/** CONNECT (the gateway is no proxy): 404 on the socket, which is then closed. */
export function answerConnect(
  log: FastifyBaseLogger,
  request: IncomingMessage,
  socket: Socket,
): void {
  const answer = new RouteNotFoundError(
    `No route for CONNECT ${request.url ?? ''}: the gateway is not a proxy. ${ROUTES}`,
  );
  log.info({ code: answer.code, status: 404, method: 'CONNECT' }, answer.message);
  // A client that resets meanwhile: nothing more to answer (no request object logs it).
  socket.on('error', (error) => log.debug({ err: error }, 'CONNECT socket error'));
  if (socket.writable) socket.end(rawErrorResponse(answer));
  socket.destroySoon();
}

/** A request Node's parser refused: answered on the socket, which is then closed. */
export function answerClientError(
  log: FastifyBaseLogger,
  error: Error & { code?: string },
  socket: Socket,
): void {
  const answer = fromClientError(error);
  const status = toHttpError(answer).status;
  // An abort during a request's body is also logged, at info, for the request itself.
  const level = answer.code === 'ERR_ABORTED' ? 'debug' : 'info';
  log[level](
    { code: answer.code, status, cause: error.code, remoteAddress: socket.remoteAddress },
    answer.message,
  );
  // As Node does: answer only if nothing of a response was written on this socket yet.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (answer.code !== 'ERR_ABORTED' && socket.writable && !inFlight?.headersSent) {
    socket.end(rawErrorResponse(answer));
  }
  socket.destroySoon();
}
