import type { BlankThreadCount } from '../supervisor/blank-threads.js';
import type { FastifyServerOptions } from 'fastify';
import { checkKnownOptions } from '../bridge/check-options.js';
import type { HostFunctions } from '../bridge/host-functions.js';
import { InvalidArgumentError } from '../errors.js';
import type { ModuleSettings } from './sidecar.js';

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
  /**
   * Warm blank threads the process keeps for modules to claim when they grow, so a call to a
   * module scaled to zero waits ≈1 ms for an instance instead of ≈40 ms for a thread to boot
   * (see `setBlankThreads`; the reservoir is process-wide). `'auto'`: as many as the largest
   * growth (maxThreads − minThreads) of a module, at most one per core. 0 disables it.
   * Default: `'auto'`.
   */
  blankThreads?: BlankThreadCount;
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
  // Scales with load: one thread at rest (a first call never waits for a thread to boot, and
  // a deploy's probe runs), two under load, back to one after 30 s idle.
  minThreads: 1,
  maxThreads: 2,
  idleTimeoutMs: 30_000,
  timeoutMs: 30_000,
  maxQueue: 64,
  maxMemoryMb: 256,
  maxImagePixels: 40_000_000,
  // No request sees another's data: a gateway is shared by clients that do not trust each other.
  isolation: 'call',
};

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
  'blankThreads',
]);

/**
 * Checks the options of {@link createGateway} up front.
 * @throws `ERR_INVALID_ARGUMENT`
 */
export function checkGatewayOptions(options: GatewayOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('createGateway needs an options object (or none).');
  }
  checkKnownOptions(options, OPTION_KEYS);
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) {
    throw new InvalidArgumentError('options.token must be a non-empty string.');
  }
  const blank = options.blankThreads;
  if (
    blank !== undefined &&
    blank !== 'auto' &&
    (!Number.isInteger(blank) || blank < 0 || blank > 64)
  ) {
    throw new InvalidArgumentError(
      `options.blankThreads must be 'auto' or an integer from 0 to 64 (0 disables the ` +
        `reservoir of warm threads), got ${JSON.stringify(blank)}.`,
    );
  }
  const limit = options.bodyLimitBytes;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new InvalidArgumentError(
      `options.bodyLimitBytes must be a positive integer, got ${limit}.`,
    );
  }
}
