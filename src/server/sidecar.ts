import { isFunctionName } from '../bridge/call-arguments.js';
import { SidecarInvalidError } from './gateway-errors.js';

/**
 * Per-module settings: the gateway's defaults, overridden by the module's sidecar file
 * `<name>.json` next to `<name>.wasm`. Every key is optional; unknown keys are refused so a typo
 * is not silently ignored. See docs/server.md.
 *
 * @example
 * ```json
 * { "threads": 2, "timeoutMs": 2000, "maxMemoryMb": 64, "wasi": { "env": { "SHIFT": "5" } } }
 * ```
 */
export interface ModuleSettings {
  /** Threads, each with one instance of the module: a fixed pool (minThreads = maxThreads). */
  threads?: number;
  /** Threads kept at rest; `0` scales the module to zero (its first call starts a thread). */
  minThreads?: number;
  /** Most threads: the pool grows toward it while calls wait. */
  maxThreads?: number;
  /** A thread above minThreads that served no call this long exits, in ms. */
  idleTimeoutMs?: number;
  /** Running time allowed per call, in ms (`0`: none). Past it: 504 `ERR_CALL_TIMEOUT`. */
  timeoutMs?: number;
  /** Time a call may wait for a thread, in ms (`0`: none). Past it: 504 `ERR_QUEUE_TIMEOUT`. */
  queueTimeoutMs?: number;
  /** Calls that may wait beyond those running; more: 429 `ERR_QUEUE_FULL`. */
  maxQueue?: number;
  /** Cap on each instance's linear memory, in MiB. */
  maxMemoryMb?: number;
  /** Time threads may take to instantiate the module, in ms. */
  startTimeoutMs?: number;
  /** Replace an instance after this many calls. */
  maxCallsPerInstance?: number;
  /** Replace an instance once it is this old, in ms. */
  maxInstanceAgeMs?: number;
  /** Replace an instance when a call left its memory above this size, in MiB. */
  recycleMemoryMb?: number;
  /** Bytes reserved past each payload for results longer than their input. */
  resultHeadroomBytes?: number;
  /**
   * `'call'` (the gateway's default): every request starts from the state the instance had when
   * it became ready, so no request sees another's data. `'instance'`: guest state persists across
   * the requests a thread serves (a deliberate cache). See docs/isolation.md.
   */
  isolation?: 'instance' | 'call';
  /**
   * Most pixels (width × height) an image input may have, read from the image's header before
   * it is decoded; more: 413 `ERR_IMAGE_TOO_LARGE`. Default 40 000 000 (40 MP).
   */
  maxImagePixels?: number;
  /**
   * WASI preview 1: arguments, environment and directories the guest may open (guest path →
   * folder path, which must be inside the deploy folder). A module that imports WASI gets WASI
   * with nothing granted when this is absent.
   */
  wasi?: { args?: string[]; env?: Record<string, string>; preopens?: Record<string, string> };
  /**
   * Host functions the module may import, from those the gateway offers (`wasmtube.log`,
   * `wasmtube.now_ms`, and any given to `createGateway`): `"module.name"` or `"module.*"`.
   * Nothing is granted by default; a module importing an ungranted function does not deploy.
   */
  hostFunctions?: string[];
  /** A JSON call that must succeed on every new instance before it takes traffic. */
  probe?: { fn: string; data?: unknown };
  /** Refuse a new version lacking a function the running one exports (default `true`). */
  requireExports?: boolean;
  /** Automatic rollback of a new version that keeps failing; `false` disables. */
  rollback?: false | { minCalls?: number; maxRateIncrease?: number; minUptimeMs?: number };
}

type Check = (value: unknown, where: string) => void;

const number: Check = (value, where) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(where, 'a number ≥ 0');
  }
};
const positiveInteger: Check = (value, where) => {
  if (!Number.isInteger(value) || (value as number) < 1) fail(where, 'a positive integer');
};
const nonNegativeInteger: Check = (value, where) => {
  if (!Number.isInteger(value) || (value as number) < 0) fail(where, 'an integer ≥ 0');
};
const boolean: Check = (value, where) => {
  if (typeof value !== 'boolean') fail(where, 'true or false');
};
const stringArray: Check = (value, where) => {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    fail(where, 'an array of strings');
  }
};
const stringRecord: Check = (value, where) => {
  if (!isPlainObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    fail(where, 'an object of strings');
  }
};
const object =
  (fields: Record<string, Check>, required: string[] = []): Check =>
  (value, where) => {
    if (!isPlainObject(value)) fail(where, `an object with ${Object.keys(fields).join(', ')}`);
    checkFields(value as Record<string, unknown>, fields, where, required);
  };

const FIELDS: Record<keyof ModuleSettings, Check> = {
  threads: positiveInteger,
  minThreads: nonNegativeInteger,
  maxThreads: positiveInteger,
  idleTimeoutMs: (value, where) => {
    if (typeof value !== 'number' || !(value >= 1) || value > 2 ** 31 - 1) {
      fail(where, 'a number of ms from 1 to 2147483647');
    }
  },
  timeoutMs: number,
  queueTimeoutMs: number,
  maxQueue: number,
  maxMemoryMb: number,
  startTimeoutMs: number,
  maxCallsPerInstance: number,
  maxInstanceAgeMs: number,
  recycleMemoryMb: number,
  resultHeadroomBytes: number,
  isolation: (value, where) => {
    if (value !== 'instance' && value !== 'call') fail(where, '"instance" or "call"');
  },
  maxImagePixels: positiveInteger,
  wasi: object({ args: stringArray, env: stringRecord, preopens: stringRecord }),
  hostFunctions: stringArray,
  probe: object(
    {
      fn: (value, where) => {
        if (!isFunctionName(value)) fail(where, 'a function name');
      },
      data: () => undefined,
    },
    ['fn'],
  ),
  requireExports: boolean,
  rollback: (value, where) => {
    if (value === false) return;
    object({ minCalls: number, maxRateIncrease: number, minUptimeMs: number })(value, where);
  },
};

/** The sidecar keys, for messages and docs. */
export const SIDECAR_KEYS = Object.keys(FIELDS) as (keyof ModuleSettings)[];

/**
 * Parses and checks a sidecar's text. `source` names the file in messages.
 * @throws `ERR_SIDECAR_INVALID`
 */
export function parseSidecar(text: string, source: string): ModuleSettings {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SidecarInvalidError(`${source} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
      details: { file: source },
    });
  }
  return checkSettings(value, source);
}

/**
 * Checks settings given as an object (a sidecar's content or the gateway's defaults).
 * @throws `ERR_SIDECAR_INVALID`
 */
export function checkSettings(value: unknown, source: string): ModuleSettings {
  if (!isPlainObject(value)) {
    throw new SidecarInvalidError(`${source} must hold a JSON object of module settings.`, {
      details: { file: source },
    });
  }
  try {
    checkFields(value, FIELDS, '', []);
    checkThreadBounds(value as ModuleSettings);
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    throw new SidecarInvalidError(`${source}: ${error.message}`, {
      details: { file: source, field: error.field },
    });
  }
  return value as ModuleSettings;
}

/** `threads` is a fixed pool, minThreads/maxThreads a scaling one: not both, and min ≤ max. */
function checkThreadBounds(settings: ModuleSettings): void {
  const { threads, minThreads, maxThreads } = settings;
  if (threads !== undefined && (minThreads !== undefined || maxThreads !== undefined)) {
    throw new FieldError(
      'threads',
      'give either "threads" (a fixed pool) or "minThreads"/"maxThreads" (a pool that scales ' +
        'with load), not both.',
    );
  }
  if (minThreads !== undefined && maxThreads !== undefined && minThreads > maxThreads) {
    throw new FieldError(
      'minThreads',
      `minThreads (${minThreads}) is above maxThreads (${maxThreads}).`,
    );
  }
}

/**
 * `over` overriding `base` (a sidecar over the defaults): its `threads` replaces the base's
 * minThreads/maxThreads, and its minThreads/maxThreads replace the base's `threads`.
 */
export function overrideSettings(base: ModuleSettings, over: ModuleSettings): ModuleSettings {
  const merged: ModuleSettings = { ...base };
  if (over.threads !== undefined) {
    delete merged.minThreads;
    delete merged.maxThreads;
  }
  if (over.minThreads !== undefined || over.maxThreads !== undefined) delete merged.threads;
  Object.assign(merged, over);
  // A sidecar raising only minThreads above the defaults' maxThreads means "at least this many".
  if (
    merged.minThreads !== undefined &&
    merged.maxThreads !== undefined &&
    merged.minThreads > merged.maxThreads
  ) {
    if (over.maxThreads === undefined) merged.maxThreads = merged.minThreads;
    else if (over.minThreads === undefined) merged.minThreads = merged.maxThreads;
  }
  return merged;
}

class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function checkFields(
  value: Record<string, unknown>,
  fields: Record<string, Check>,
  where: string,
  required: string[],
): void {
  for (const [key, field] of Object.entries(value)) {
    const path = where ? `${where}.${key}` : key;
    const check = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!check) {
      throw new FieldError(
        path,
        `unknown setting "${path}". Known: ${Object.keys(fields)
          .map((k) => (where ? `${where}.${k}` : k))
          .join(', ')}.`,
      );
    }
    check(field, path);
  }
  for (const key of required) {
    if (!(key in value)) throw new FieldError(`${where}.${key}`, `${where}.${key} is required.`);
  }
}

function fail(where: string, what: string): never {
  throw new FieldError(where, `"${where}" must be ${what}.`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
