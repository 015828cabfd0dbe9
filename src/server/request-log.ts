import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * The gateway's per-request log: one line per request when it is answered ("request completed"
 * or "request errored", with the request, the reply and its time), instead of fastify's two (an
 * "incoming request" line first). Under load every line costs a serialization and a write on
 * the main thread, the thread every request goes through.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {
    // Logged with the reply, in one line.
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else reply.log.info(fields, 'request completed');
  }
}
