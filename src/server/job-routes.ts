import type { FastifyInstance } from 'fastify';
import type { GatewayLattice } from './gateway-lattice.js';
import { RouteNotFoundError } from './gateway-errors.js';
import { toCall } from './http-call.js';
import { checkModuleName } from './safe-path.js';

/**
 * `POST /jobs/:module/:fn` → 202 `{ id }`: queues a durable job in the lattice (the body is the
 * input, as for a call); `GET /jobs/:id` → its state and, once done, its result. Only in a
 * lattice (`wasmtube serve --nats`); otherwise 404.
 */
export function registerJobRoutes(
  app: FastifyInstance,
  lattice: () => GatewayLattice | undefined,
): void {
  const need = (): GatewayLattice => {
    const current = lattice();
    if (!current) {
      throw new RouteNotFoundError(
        'Jobs need a gateway in a lattice: start it with wasmtube serve --nats <url>.',
      );
    }
    return current;
  };
  app.post<{ Params: { module: string; fn: string }; Querystring: Record<string, unknown> }>(
    '/jobs/:module/:fn',
    async (request, reply) => {
      const target = need();
      checkModuleName(request.params.module);
      const { input, returns } = toCall({
        body: request.body,
        contentType: request.headers['content-type'],
        accept: request.headers.accept,
        query: request.query ?? {},
      });
      const id = await target.enqueue(request.params.module, request.params.fn, input, { returns });
      return reply.code(202).header('location', `/jobs/${id}`).send({ id, state: 'queued' });
    },
  );
  app.get<{ Params: { id: string } }>('/jobs/:id', async (request) =>
    need().job(request.params.id),
  );
}
