import type { FastifyReply } from 'fastify';

/**
 * A signal that aborts when the client closes the connection before its answer is written, so
 * the call it was waiting for is cancelled (a running one's thread is replaced). `release()` stops
 * watching once the route is done with the call.
 */
export function cancelOnClientClose(reply: FastifyReply): {
  signal: AbortSignal;
  release: () => void;
} {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished)
      controller.abort(new Error('the client closed the connection'));
  };
  reply.raw.once('close', onClose);
  return { signal: controller.signal, release: () => reply.raw.off('close', onClose) };
}
