import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { InvalidArgumentError } from '../errors.js';
import { BearerAuth } from './bearer-auth.js';
import { answerClientError, answerConnect, sendErrorAnswer } from './error-answers.js';
import { DeployFolderError } from './gateway-errors.js';
import type { GatewayLattice } from './gateway-lattice.js';
import {
  checkGatewayOptions,
  DEFAULT_MODULE_SETTINGS,
  type GatewayOptions,
  type ListenOptions,
} from './gateway-options.js';
import { DEFAULT_BLANK_THREADS, setBlankThreads } from '../supervisor/blank-threads.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerDashboard } from './dashboard-route.js';
import { EventHub } from './event-hub.js';
import { registerEventRoutes } from './event-routes.js';
import { gatewayLogger } from './gateway-logger.js';
import { RequestLog } from './request-log.js';
import { registerGatewayRoutes } from './gateway-routes.js';
import { LogBook } from './log-book.js';
import { MAX_PARAM_LENGTH } from './http-errors.js';
import { GatewayMetrics } from './metrics.js';
import { ModuleRegistry } from './module-registry.js';
import { checkSettings, overrideSettings, type ModuleSettings } from './sidecar.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * An HTTP gateway serving a folder of .wasm modules: `POST /functions/:module/:fn`,
 * `GET /functions`, `GET /healthz`, `GET /metrics`, the dashboard (`GET /`), its event stream
 * (`GET /events`) and the admin routes (`/admin/...`). See docs/server.md.
 *
 * @example
 * ```ts
 * const gateway = await createGateway({ dir: 'examples', token: process.env.WASMTUBE_TOKEN });
 * const url = await gateway.listen({ port: 3000 });
 * // ... later
 * await gateway.close({ timeoutMs: 10_000 });
 * ```
 */
export class Gateway {
  /** The fastify instance (routes are registered; add hooks or routes before `listen`). */
  readonly app: FastifyInstance;
  /** The modules of the folder. */
  readonly modules: ModuleRegistry;
  /** The Prometheus metrics (`metrics.registry`). */
  readonly metrics: GatewayMetrics;
  /** The live event stream behind `GET /events` (subscribe to it in-process too). */
  readonly events: EventHub;
  /** The recent log lines behind `GET /admin/logs`. */
  readonly logs: LogBook;
  readonly #auth: BearerAuth | undefined;
  #closingFlag = false;
  #lattice: GatewayLattice | undefined;
  #closing: Promise<void> | undefined;
  #url: string | undefined;
  #host: string | undefined;

  private constructor(
    app: FastifyInstance,
    modules: ModuleRegistry,
    metrics: GatewayMetrics,
    logs: LogBook,
    token?: string,
  ) {
    this.app = app;
    this.modules = modules;
    this.metrics = metrics;
    this.logs = logs;
    this.events = new EventHub({ registry: modules, metrics, logs });
    this.#auth = token === undefined ? undefined : new BearerAuth(token);
  }

  /** State may change over HTTP with a token, or, without one, on loopback only. */
  #adminAllowed(): boolean {
    return this.#auth !== undefined || LOOPBACK.has(this.#host ?? '127.0.0.1');
  }

  /** Use {@link createGateway}. */
  static async create(options: GatewayOptions = {}): Promise<Gateway> {
    checkGatewayOptions(options);
    setBlankThreads(options.blankThreads ?? DEFAULT_BLANK_THREADS);
    const dir = resolve(options.dir ?? '.');
    const folder = await stat(dir).catch(() => undefined);
    if (!folder?.isDirectory()) {
      throw new DeployFolderError(
        `The deploy folder ${dir} does not exist or is not a directory.`,
        {
          details: { dir },
        },
      );
    }
    let defaults: ModuleSettings;
    try {
      defaults = overrideSettings(
        DEFAULT_MODULE_SETTINGS,
        checkSettings(options.defaults ?? {}, 'options.defaults'),
      );
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message, { cause: error });
    }
    // Errors fastify and Node answer before any route runs are sent with the gateway's body too.
    const logs = new LogBook();
    const app: FastifyInstance = Fastify({
      logger: gatewayLogger(options.logger, logs),
      // Without a logger of the user's, only the gateway's own lines are kept (in the book).
      logController: new RequestLog({ disableRequestLogging: !options.logger }),
      bodyLimit: options.bodyLimitBytes ?? 16 * 1024 * 1024,
      // Answered by our own hook, with the gateway's error body.
      return503OnClosing: false,
      // Node's own answer to a request without Host is an empty 400; the onRequest hook sends ours.
      http: { requireHostHeader: false },
      routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
      // Bad percent-encoding, names past maxParamLength.
      frameworkErrors: (error, request, reply) => {
        sendErrorAnswer(error, request, reply);
      },
      // Requests Node's HTTP parser refuses: unknown method, headers over 16 KiB, bad framing.
      clientErrorHandler: (error, socket) => answerClientError(app.log, error, socket),
    });
    let registry: ModuleRegistry | undefined;
    const metrics = new GatewayMetrics(() => registry?.gauges() ?? []);
    registry = new ModuleRegistry({
      folder: dir,
      defaults,
      watch: options.watch ?? true,
      stabilityMs: options.reloadStabilityMs ?? 50,
      debounceMs: options.reloadDebounceMs ?? 20,
      drainTimeoutMs: options.drainTimeoutMs ?? 10_000,
      logger: app.log,
      metrics,
      hostFunctions: options.hostFunctions ?? {},
    });
    // Node hands CONNECT to a 'connect' listener and, without one, drops the socket unanswered.
    app.server.on('connect', (request: IncomingMessage, socket: Socket) =>
      answerConnect(app.log, request, socket),
    );
    const gateway = new Gateway(app, registry, metrics, logs, options.token);
    registerGatewayRoutes(app, {
      modules: registry,
      metrics,
      auth: gateway.#auth,
      isClosing: () => gateway.#closingFlag,
      lattice: () => gateway.#lattice,
    });
    registerAdminRoutes(app, {
      modules: registry,
      adminAllowed: () => gateway.#adminAllowed(),
      inLattice: () => gateway.#lattice !== undefined,
    });
    registerEventRoutes(app, { events: gateway.events, logs });
    registerDashboard(app);
    try {
      await registry.start();
      await app.ready();
    } catch (error) {
      gateway.events.close();
      await registry.close({ timeoutMs: 0 });
      await app.close();
      throw error;
    }
    return gateway;
  }

  /**
   * Makes this gateway a member of a lattice (`wasmtube serve --nats`): calls for modules it
   * does not serve go to the lattice, `/jobs` routes work and `/healthz` reports the lattice.
   */
  useLattice(lattice: GatewayLattice | undefined): void {
    this.#lattice = lattice;
  }

  /** The URL it listens on, once listening. */
  get url(): string | undefined {
    return this.#url;
  }

  /** Starts listening; resolves with the URL, e.g. `http://127.0.0.1:3000`. */
  async listen(options: ListenOptions = {}): Promise<string> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 3000;
    this.#host = host;
    await this.app.listen({ host, port });
    const address = this.app.server.address();
    const actual = typeof address === 'object' && address !== null ? address.port : port;
    const shown = host.includes(':') ? `[${host}]` : host;
    this.#url = `http://${shown}:${actual}`;
    this.app.log.info(
      { url: this.#url, modules: this.modules.list().map((m) => m.name) },
      `wasmtube gateway listening at ${this.#url}`,
    );
    if (!this.#auth && !LOOPBACK.has(host)) {
      this.app.log.warn(
        { host },
        'listening beyond loopback without a token: anyone who can reach it can call every ' +
          'module (admin routes that change state are refused until a token is set)',
      );
    }
    return this.#url;
  }

  /**
   * Shuts down gracefully: new requests get 503 `ERR_SHUTTING_DOWN` and no new connections are
   * accepted; calls in flight finish (up to `timeoutMs`, default 10 s; after it they get 503
   * `ERR_WORKER_STOPPED`); then every worker, the folder watcher and every connection is closed.
   * Idempotent: every call returns the same promise.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? 10_000);
    return this.#closing;
  }

  /** `await using gateway = await createGateway(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closingFlag = true;
    this.app.log.info({ timeoutMs }, 'shutting down: draining calls in flight');
    // Event streams never end by themselves: end them so the server can close.
    this.events.close();
    // Stops accepting connections; resolves once every connection has closed.
    const appClosed = this.app.close();
    // Calls finish (or are cut off at the timeout); their responses carry Connection: close.
    await this.modules.close({ timeoutMs });
    // The answers to the last calls are being written; give them a moment to flush.
    const closedInTime = await Promise.race([
      appClosed.then(() => true),
      delay(1000).then(() => false),
    ]);
    if (!closedInTime) {
      // Connections still open (e.g. a client still uploading a body): cut them.
      this.app.server.closeAllConnections();
      await appClosed;
    }
    this.app.log.info('shut down');
  }
}

/**
 * Creates a gateway on a deploy folder: deploys every module in it (those that fail are listed
 * with their error, not fatal) and starts watching it. Call `listen()` to serve.
 * @throws `ERR_DEPLOY_FOLDER`, `ERR_INVALID_ARGUMENT`
 *
 * @example
 * ```ts
 * const gateway = await createGateway({ dir: 'functions', defaults: { threads: 4 } });
 * gateway.app.addHook('onResponse', async (req, reply) => audit(req, reply)); // plain fastify
 * await gateway.listen({ host: '127.0.0.1', port: 8080 });
 * ```
 */
export function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  return Gateway.create(options);
}

/**
 * {@link createGateway}, then `listen()`: the programmatic `wasmtube serve`.
 *
 * @example
 * ```ts
 * const gateway = await serve({ dir: 'examples', port: 0 });
 * console.log(gateway.url);
 * process.once('SIGTERM', () => gateway.close());
 * ```
 */
export async function serve(options: GatewayOptions & ListenOptions = {}): Promise<Gateway> {
  const { host, port, ...rest } = options;
  const gateway = await createGateway(rest);
  try {
    await gateway.listen({ host, port });
  } catch (error) {
    await gateway.close({ timeoutMs: 0 });
    throw error;
  }
  return gateway;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
