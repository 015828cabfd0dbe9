import { timingSafeEqual } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { checkKnownOptions } from '../bridge/check-options.js';
import type { HostFunctions } from '../bridge/host-functions.js';
import { ExportNotFoundError, InvalidArgumentError, WasmtubeError } from '../errors.js';
import { sha256 } from '../util/sha256.js';
import {
  BadRequestError,
  DeployFolderError,
  ModuleNotFoundError,
  ModuleUnavailableError,
  RouteNotFoundError,
  ShuttingDownError,
  UnauthorizedError,
} from './gateway-errors.js';
import { CONTENT_TYPE, toBody, toCall } from './http-call.js';
import {
  errorBody,
  fromClientError,
  MAX_PARAM_LENGTH,
  rawErrorResponse,
  toHttpError,
} from './http-errors.js';
import { checkCallInput } from './image-guard.js';
import { GatewayMetrics, OK } from './metrics.js';
import type { FunctionDescription } from './module-description.js';
import type { DeployedModule, ModuleState } from './module-record.js';
import { ModuleRegistry } from './module-registry.js';
import { checkModuleName } from './safe-path.js';
import { checkSettings, type ModuleSettings } from './sidecar.js';

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** The deploy folder: every `<name>.wasm` in it is served as module `name`. Default: the cwd. */
  dir?: string;
  /**
   * Settings of every module, which its sidecar `<name>.json` may override. Default:
   * {@link DEFAULT_MODULE_SETTINGS}.
   */
  defaults?: ModuleSettings;
  /** Require `Authorization: Bearer <token>` on every route but `/healthz`. Default: none. */
  token?: string;
  /** Largest request body accepted, in bytes; past it 413. Default: 16 MiB. */
  bodyLimitBytes?: number;
  /** Deploy, reload and undeploy as the folder changes. Default: true. */
  watch?: boolean;
  /** A changed file must keep its size this long before it is read. Default: 50 ms. */
  reloadStabilityMs?: number;
  /** File events for one module closer together than this are one change. Default: 20 ms. */
  reloadDebounceMs?: number;
  /** How long an undeployed or replaced module version may take to finish its calls. Default: 10000. */
  drainTimeoutMs?: number;
  /**
   * Host functions the gateway offers besides the built-in `wasmtube.log` and `wasmtube.now_ms`;
   * each module's sidecar grants those it may import (`"hostFunctions": ["audit.write"]`). They
   * run on the main thread and may be async. Default: none.
   */
  hostFunctions?: HostFunctions;
  /** Fastify's `logger` option (pino): `true`, pino options, or `false`. Default: false. */
  logger?: FastifyServerOptions['logger'];
}

/** Where to listen. */
export interface ListenOptions {
  /** Default: `127.0.0.1` (loopback only). Use `0.0.0.0` to accept other hosts. */
  host?: string;
  /** Default: 3000. `0` picks a free port. */
  port?: number;
}

/** Settings of modules without a sidecar. */
export const DEFAULT_MODULE_SETTINGS: Readonly<ModuleSettings> = {
  threads: 2,
  timeoutMs: 30_000,
  maxQueue: 64,
  maxMemoryMb: 256,
  maxImagePixels: 40_000_000,
};

const ROUTES =
  'Routes: POST /functions/:module/:function, GET /functions, GET /functions/:module, ' +
  'GET /healthz, GET /metrics.';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const OPTION_KEYS = new Set([
  'dir',
  'defaults',
  'token',
  'bodyLimitBytes',
  'watch',
  'reloadStabilityMs',
  'reloadDebounceMs',
  'drainTimeoutMs',
  'hostFunctions',
  'logger',
]);

/** A module as `GET /functions` lists it. */
export interface ModuleStatus {
  name: string;
  state: ModuleState;
  /** The version being served; versions only increase over the gateway's life. */
  version: number;
  /** sha256 of the module being served. */
  hash: string | undefined;
  file: string;
  wasi: boolean;
  threads: { target: number; alive: number; ready: number } | undefined;
  queued: number;
  running: number;
  functions: FunctionDescription[];
  settings: Pick<
    ModuleSettings,
    'timeoutMs' | 'queueTimeoutMs' | 'maxQueue' | 'maxMemoryMb' | 'maxImagePixels'
  >;
  deployedAt: string | undefined;
  updatedAt: string;
  /** The last deploy or reload failure, until a later one succeeds. */
  error: { code: string; message: string } | undefined;
}

/**
 * An HTTP gateway serving a folder of .wasm modules: `POST /functions/:module/:fn`,
 * `GET /functions`, `GET /healthz`, `GET /metrics`. See docs/server.md.
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
  readonly #tokenDigest: Buffer | undefined;
  #closingFlag = false;
  #closing: Promise<void> | undefined;
  #url: string | undefined;

  private constructor(
    app: FastifyInstance,
    modules: ModuleRegistry,
    metrics: GatewayMetrics,
    token?: string,
  ) {
    this.app = app;
    this.modules = modules;
    this.metrics = metrics;
    this.#tokenDigest = token === undefined ? undefined : digest(token);
  }

  /** Use {@link createGateway}. */
  static async create(options: GatewayOptions = {}): Promise<Gateway> {
    checkOptions(options);
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
      defaults = {
        ...DEFAULT_MODULE_SETTINGS,
        ...checkSettings(options.defaults ?? {}, 'options.defaults'),
      };
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message, { cause: error });
    }
    // Errors fastify and Node answer before any route runs are sent with the gateway's body too.
    let gatewayRef: Gateway | undefined;
    const app = Fastify({
      logger: options.logger ?? false,
      bodyLimit: options.bodyLimitBytes ?? 16 * 1024 * 1024,
      // Answered by our own hook, with the gateway's error body.
      return503OnClosing: false,
      // Node's own answer to a request without Host is an empty 400; the onRequest hook sends ours.
      http: { requireHostHeader: false },
      routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
      // Bad percent-encoding, names past maxParamLength.
      frameworkErrors: (error, request, reply) => {
        gatewayRef!.#sendError(error, request, reply);
      },
      // Requests Node's HTTP parser refuses: unknown method, headers over 16 KiB, bad framing.
      clientErrorHandler: (error, socket) => gatewayRef!.#onClientError(error, socket),
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
      gatewayRef!.#onConnect(request, socket),
    );
    const gateway = new Gateway(app, registry, metrics, options.token);
    gatewayRef = gateway;
    gateway.#routes();
    try {
      await registry.start();
      await app.ready();
    } catch (error) {
      await registry.close({ timeoutMs: 0 });
      await app.close();
      throw error;
    }
    return gateway;
  }

  /** The URL it listens on, once listening. */
  get url(): string | undefined {
    return this.#url;
  }

  /** Starts listening; resolves with the URL, e.g. `http://127.0.0.1:3000`. */
  async listen(options: ListenOptions = {}): Promise<string> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 3000;
    await this.app.listen({ host, port });
    const address = this.app.server.address();
    const actual = typeof address === 'object' && address !== null ? address.port : port;
    const shown = host.includes(':') ? `[${host}]` : host;
    this.#url = `http://${shown}:${actual}`;
    this.app.log.info(
      { url: this.#url, modules: this.modules.list().map((m) => m.name) },
      `wasmtube gateway listening at ${this.#url}`,
    );
    if (!this.#tokenDigest && !LOOPBACK.has(host)) {
      this.app.log.warn(
        { host },
        'listening beyond loopback without a token: anyone who can reach it can call every module',
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

  // ---- routes ----

  #routes(): void {
    const app = this.app;
    // Bodies are JSON, images or bytes; plain text is refused (415) rather than taken as a string.
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser(/^image\/[\w.+-]+$/i, { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );
    app.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer' },
      (_req, body, done) => done(null, body),
    );

    app.addHook('onRequest', async (request) => {
      if (this.#closingFlag) {
        throw new ShuttingDownError('The gateway is shutting down; retry on another instance.');
      }
      if (request.raw.httpVersion === '1.1' && !request.headers.host) {
        throw new BadRequestError('HTTP/1.1 requests need a Host header.');
      }
      if (this.#tokenDigest && request.routeOptions.url !== '/healthz') this.#authorize(request);
    });
    app.addHook('onSend', async (_request, reply) => {
      // While draining, close each connection after its response so the server can stop.
      if (this.#closingFlag) reply.header('connection', 'close');
    });
    app.setErrorHandler((thrown, request, reply) => this.#sendError(thrown, request, reply));
    app.setNotFoundHandler((request) => {
      throw new RouteNotFoundError(
        `No route for ${request.method} ${request.url.split('?')[0]}. ${ROUTES}`,
      );
    });

    app.get('/healthz', async () => ({ status: 'ok' }));

    app.get('/metrics', async (_request, reply) => {
      reply.type(this.metrics.registry.contentType);
      return this.metrics.registry.metrics();
    });

    app.get('/functions', async () => ({ modules: this.modules.list().map(statusOf) }));

    app.get<{ Params: { module: string } }>('/functions/:module', async (request) =>
      statusOf(this.#module(request.params.module)),
    );

    app.post<{ Params: { module: string; fn: string }; Querystring: Record<string, unknown> }>(
      '/functions/:module/:fn',
      (request, reply) => this.#call(request, reply),
    );
  }

  #authorize(request: FastifyRequest): void {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    // Compare digests: constant time, whatever the lengths.
    if (!match || !timingSafeEqual(digest(match[1]!), this.#tokenDigest!)) {
      throw new UnauthorizedError(
        match
          ? 'The bearer token is not valid.'
          : 'This gateway needs a bearer token: send Authorization: Bearer <token>.',
      );
    }
  }

  /** The module named in a request, or the error for why it cannot be used. */
  #module(name: string): DeployedModule {
    checkModuleName(name);
    const module = this.modules.get(name);
    if (!module) {
      throw new ModuleNotFoundError(
        `No module "${name}" is deployed. GET /functions lists the modules.`,
        { details: { module: name } },
      );
    }
    return module;
  }

  async #call(
    request: FastifyRequest<{
      Params: { module: string; fn: string };
      Querystring: Record<string, unknown>;
    }>,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    const started = performance.now();
    const { module: name, fn } = request.params;
    const module = this.#module(name);
    servingWorker(module);
    const observe = (function_: string, outcome: string) =>
      this.metrics.observeCall(name, function_, outcome, (performance.now() - started) / 1000);
    if (!module.functions.has(fn)) {
      observe('_unknown', ExportNotFoundError.code);
      const available = [...module.functions.keys()];
      throw new ExportNotFoundError(
        `Module "${name}" exports no function "${fn}". Functions: ${available.join(', ') || '(none)'}.`,
        { details: { module: name, name: fn, available } },
      );
    }
    // A client that goes away cancels its call (a running one's thread is replaced).
    const controller = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished)
        controller.abort(new Error('the client closed the connection'));
    };
    reply.raw.once('close', onClose);
    try {
      const { input, returns } = toCall({
        body: request.body,
        contentType: request.headers['content-type'],
        accept: request.headers.accept,
        query: request.query ?? {},
      });
      // Before anything is decoded: the function takes this kind of input, and an image is
      // within the module's maxImagePixels (read from its header).
      await checkCallInput(module.functions.get(fn)!, input, {
        module: name,
        maxImagePixels: module.settings.maxImagePixels,
      });
      // The module as it is now (a reload or undeploy may have happened during the check), and
      // no await between finding its worker and calling it: a swap cannot come in between.
      const current = this.#module(name);
      const worker = servingWorker(current);
      const { result, info } = await worker.callFunctionWithInfo(fn, input, {
        returns,
        signal: controller.signal,
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
        .type(CONTENT_TYPE[returns]);
      if (hash) reply.header('x-wasmtube-module-hash', hash);
      observe(fn, OK);
      return reply.send(toBody(result, returns));
    } catch (error) {
      observe(fn, (error as WasmtubeError).code ?? 'ERR_INTERNAL');
      throw error;
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  /** CONNECT (the gateway is no proxy): 404 on the socket, which is then closed. */
  #onConnect(request: IncomingMessage, socket: Socket): void {
    const answer = new RouteNotFoundError(
      `No route for CONNECT ${request.url ?? ''}: the gateway is not a proxy. ${ROUTES}`,
    );
    this.app.log.info({ code: answer.code, status: 404, method: 'CONNECT' }, answer.message);
    // A client that resets meanwhile: nothing more to answer (no request object logs it).
    socket.on('error', (error) => this.app.log.debug({ err: error }, 'CONNECT socket error'));
    if (socket.writable) socket.end(rawErrorResponse(answer));
    socket.destroySoon();
  }

  /** A request Node's parser refused: answered on the socket, which is then closed. */
  #onClientError(error: Error & { code?: string }, socket: Socket): void {
    const answer = fromClientError(error);
    const status = toHttpError(answer).status;
    // An abort during a request's body is also logged, at info, for the request itself.
    const level = answer.code === 'ERR_ABORTED' ? 'debug' : 'info';
    this.app.log[level](
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

  #sendError(thrown: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
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

/** The module's worker, or `ERR_MODULE_UNAVAILABLE` when it is deploying or failed. */
function servingWorker(module: DeployedModule): NonNullable<DeployedModule['worker']> {
  const worker = module.worker;
  if (module.state !== 'serving' || !worker) {
    throw new ModuleUnavailableError(
      module.state === 'deploying'
        ? `Module "${module.name}" is being deployed; retry in a moment.`
        : `Module "${module.name}" is not serving: ${module.error?.message ?? 'it failed.'}`,
      { details: { module: module.name, state: module.state, cause: module.error?.code } },
    );
  }
  return worker;
}

function statusOf(module: DeployedModule): ModuleStatus {
  const stats = module.worker?.stats();
  const { timeoutMs, queueTimeoutMs, maxQueue, maxMemoryMb, maxImagePixels } = module.settings;
  return {
    name: module.name,
    state: module.state,
    version: module.version,
    hash: module.hash,
    file: `${module.name}.wasm`,
    wasi: module.wasi,
    threads: stats?.threads,
    queued: stats?.queued ?? 0,
    running: stats?.running ?? 0,
    functions: [...module.functions.values()],
    settings: { timeoutMs, queueTimeoutMs, maxQueue, maxMemoryMb, maxImagePixels },
    deployedAt: module.deployedAt?.toISOString(),
    updatedAt: module.updatedAt.toISOString(),
    error: module.error && { code: module.error.code, message: module.error.message },
  };
}

function checkOptions(options: GatewayOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('createGateway needs an options object (or none).');
  }
  checkKnownOptions(options, OPTION_KEYS);
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) {
    throw new InvalidArgumentError('options.token must be a non-empty string.');
  }
  const limit = options.bodyLimitBytes;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new InvalidArgumentError(
      `options.bodyLimitBytes must be a positive integer, got ${limit}.`,
    );
  }
}

function digest(text: string): Buffer {
  return Buffer.from(sha256(text), 'hex');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
