import type { FastifyInstance } from 'fastify';
import type { BearerAuth } from './bearer-auth.js';
import { routeNotFound, sendErrorAnswer } from './error-answers.js';
import { registerFunctionCallRoute } from './function-call-route.js';
import { BadRequestError, ShuttingDownError } from './gateway-errors.js';
import type { GatewayLattice } from './gateway-lattice.js';
import { registerJobRoutes } from './job-routes.js';
import type { GatewayMetrics } from './metrics.js';
import { findModule } from './module-lookup.js';
import type { ModuleRegistry } from './module-registry.js';
import { moduleStatus } from './module-status.js';

/** What the routes need from the gateway. */
export interface GatewayRouteParts {
  modules: ModuleRegistry;
  metrics: GatewayMetrics;
  /** The token check, when the gateway has a token. */
  auth: BearerAuth | undefined;
  /** Whether the gateway is shutting down (new requests get 503). */
  isClosing: () => boolean;
  /** The lattice this gateway belongs to (`serve --nats`), if any. */
  lattice: () => GatewayLattice | undefined;
}

/**
 * Registers the gateway's body parsers, hooks, error answers and routes: the function calls,
 * the module listing, `/healthz` and `/metrics`.
 */
export function registerGatewayRoutes(app: FastifyInstance, parts: GatewayRouteParts): void {
  const { modules, metrics, auth, isClosing, lattice } = parts;
  // Bodies are JSON, images or bytes; plain text is refused (415) rather than taken as a string.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(/^image\/[\w.+-]+$/i, { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );

  app.addHook('onRequest', async (request) => {
    if (isClosing()) {
      throw new ShuttingDownError('The gateway is shutting down; retry on another instance.');
    }
    if (request.raw.httpVersion === '1.1' && !request.headers.host) {
      throw new BadRequestError('HTTP/1.1 requests need a Host header.');
    }
    // Routes marked public (health, the dashboard's static files) hold no data.
    if (auth && !(request.routeOptions.config as { public?: boolean } | undefined)?.public) {
      auth.authorize(request);
    }
  });
  app.addHook('onSend', async (_request, reply) => {
    // While draining, close each connection after its response so the server can stop.
    if (isClosing()) reply.header('connection', 'close');
  });
  app.setErrorHandler(sendErrorAnswer);
  app.setNotFoundHandler(routeNotFound);

  app.get(
    '/healthz',
    { config: { public: true } },
    async () => lattice()?.health() ?? { status: 'ok' },
  );

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/functions', async () => ({ modules: modules.list().map(moduleStatus) }));

  app.get<{ Params: { module: string } }>('/functions/:module', async (request) =>
    moduleStatus(findModule(modules, request.params.module)),
  );

  registerFunctionCallRoute(app, modules, metrics, lattice);
  registerJobRoutes(app, lattice);
}
