import { setMaxListeners } from 'node:events';
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';

/** The signal of each open connection, made on its first call. */
const connections = new WeakMap<Socket, AbortSignal>();

/**
 * A signal that aborts when the client's connection closes, so the calls its requests were
 * waiting for are cancelled (a running one's thread is replaced). One per connection rather than
 * one per request: an HTTP/1.1 connection carries its requests one after another, a closed one
 * has nobody left to answer, and a controller plus a `close` listener per request cost the main
 * thread ~4% of its time under load. A call removes its listener when it settles, so a
 * long-lived connection does not accumulate them.
 */
export function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const socket = reply.raw.socket;
  if (!socket || socket.destroyed) {
    return AbortSignal.abort(new Error('the client closed the connection'));
  }
  let signal = connections.get(socket);
  if (!signal) {
    const controller = new AbortController();
    signal = controller.signal;
    // Pipelined requests each wait on it; they are bounded by the queue, not a leak.
    setMaxListeners(0, signal);
    socket.once('close', () => controller.abort(new Error('the client closed the connection')));
    connections.set(socket, signal);
  }
  return signal;
}
