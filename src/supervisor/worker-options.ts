/** Defaults and validation of `Worker.start` options. */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  byteArray,
  checkHeadroomFits,
  checkKnownOptions,
  checkOptionsObject,
  checkOptionValues,
  describeValue,
  integerFrom,
  milliseconds,
  oneOf,
  resultHeadroomBytes,
  timerMs,
  type OptionCheck,
} from '../bridge/check-options.js';
import { checkWasiOptions } from '../bridge/wasi.js';
import { InvalidArgumentError } from '../errors.js';
import type { WorkerOptions } from './worker-types.js';
import { ISOLATIONS, type CompiledModule, type CompileOptions } from '../bridge/compiled-module.js';
import { hostSignatures } from '../bridge/host-functions.js';
import type { ThreadData } from '../protocol/messages.js';
import type { ThreadScale } from './thread-table.js';

export const DEFAULTS = {
  timeoutMs: 30_000,
  queueTimeoutMs: 0,
  startTimeoutMs: 10_000,
  maxQueue: Infinity,
  maxCallsPerInstance: Infinity,
  maxInstanceAgeMs: Infinity,
  recycleMemoryMb: Infinity,
  pipelineDepth: 32,
  spinUs: 100,
  spareThreads: 1,
  idleTimeoutMs: 30_000,
} as const;
export const OPTION_KEYS = new Set([
  'wasmFile',
  'wasmBinary',
  'name',
  'threads',
  'minThreads',
  'maxThreads',
  'resultHeadroomBytes',
  'maxImagePixels',
  'importsModule',
  'resourceLimits',
  'supervisor',
  'supervision',
  'maxMemoryMb',
  'isolation',
  'watch',
  'reloadStabilityMs',
  'reloadDebounceMs',
  'probe',
  'requireExports',
  'rollback',
  'wasi',
  'abi',
  'hostFunctions',
  'hostModule',
  'hostCall',
  'logger',
  ...Object.keys(DEFAULTS),
]);

/** A module option as a URL string a thread can import. */
export function moduleSpecifier(module: string | URL | undefined): string | undefined {
  if (module === undefined) return undefined;
  if (module instanceof URL) return module.href;
  return /^[a-z]+:/i.test(module) ? module : pathToFileURL(module).href;
}

export function checkMs(name: string, value: unknown): void {
  milliseconds(value, name);
}

/** A number ≥ 0 (Infinity allowed). */
const nonNegative: OptionCheck = (value, name) => {
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new InvalidArgumentError(`${name} must be a number ≥ 0, got ${describeValue(value)}.`);
  }
};
const positive: OptionCheck = (value, name) => {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new InvalidArgumentError(`${name} must be a number > 0, got ${describeValue(value)}.`);
  }
};
/** A module path or URL; a `file:` one must exist (a thread would fail to import it). */
const fileOrUrl: OptionCheck = (value, name) => {
  if (!(value instanceof URL) && (typeof value !== 'string' || value === '')) {
    throw new InvalidArgumentError(
      `${name} must be a path or URL of an ES module, got ${describeValue(value)}.`,
    );
  }
  const url = new URL(moduleSpecifier(value)!);
  if (url.protocol === 'file:' && !existsSync(url)) {
    throw new InvalidArgumentError(
      `${name}: there is no file at ${fileURLToPath(url)}. Relative paths resolve against the ` +
        `process's cwd.`,
    );
  }
};
const plainObject: OptionCheck = (value, name) => checkOptionsObject(value, name);
const callback: OptionCheck = (value, name) => {
  if (typeof value !== 'function') {
    throw new InvalidArgumentError(`${name} must be a function, got ${describeValue(value)}.`);
  }
};
const boolean: OptionCheck = (value, name) => {
  if (typeof value !== 'boolean') {
    throw new InvalidArgumentError(`${name} must be true or false, got ${describeValue(value)}.`);
  }
};

/**
 * Checks of `Worker.start` options by name (absent options are skipped); `wasi`, `probe`,
 * `supervisor` and the waPC callbacks have checks of their own where they are used.
 */
const OPTION_CHECKS: Readonly<Record<string, OptionCheck>> = {
  wasmFile: (value, name) => {
    if (typeof value !== 'string' || value === '') {
      throw new InvalidArgumentError(
        `${name} must be a non-empty path, got ${describeValue(value)}.`,
      );
    }
  },
  wasmBinary: byteArray,
  name: (value, name) => {
    if (typeof value !== 'string' || value === '') {
      throw new InvalidArgumentError(
        `${name} must be a non-empty string, got ${describeValue(value)}.`,
      );
    }
  },
  threads: integerFrom(1, 1024),
  minThreads: integerFrom(0, 1024),
  maxThreads: integerFrom(1, 1024),
  idleTimeoutMs: timerMs(1),
  timeoutMs: milliseconds,
  queueTimeoutMs: milliseconds,
  startTimeoutMs: timerMs(1),
  maxQueue: nonNegative,
  maxCallsPerInstance: positive,
  maxInstanceAgeMs: nonNegative,
  recycleMemoryMb: nonNegative,
  reloadStabilityMs: timerMs(0),
  reloadDebounceMs: timerMs(0),
  resultHeadroomBytes,
  maxImagePixels: integerFrom(1),
  spareThreads: integerFrom(0, 64),
  pipelineDepth: integerFrom(1, 1024),
  spinUs: (value, name) => {
    if (typeof value !== 'number' || !(value >= 0) || value > 100_000) {
      throw new InvalidArgumentError(
        `${name} must be a number of microseconds from 0 to 100000, got ${describeValue(value)}.`,
      );
    }
  },
  importsModule: fileOrUrl,
  hostModule: fileOrUrl,
  hostFunctions: plainObject,
  resourceLimits: plainObject,
  supervision: plainObject,
  watch: boolean,
  requireExports: boolean,
  rollback: (value, name) => {
    if (value !== false) checkOptionsObject(value, name);
  },
  abi: oneOf(['auto', 'wasmtube', 'alloc', 'wapc']),
  isolation: oneOf(ISOLATIONS),
  hostCall: callback,
  logger: callback,
  supervisor: (value, name) => {
    if (typeof (value as { add?: unknown } | null)?.add !== 'function') {
      throw new InvalidArgumentError(
        `${name} must be a Supervisor (new Supervisor(...)), got ${describeValue(value)}.`,
      );
    }
  },
};

/** Validates `Worker.start` options up front; returns how many threads serve, at rest and at most. */
export function checkOptions(options: WorkerOptions): ThreadScale {
  checkOptionsObject(options, 'The options of Worker.start (with wasmFile or wasmBinary)');
  checkKnownOptions(options, OPTION_KEYS);
  checkOptionValues(options, OPTION_CHECKS);
  checkHeadroomFits(options.resultHeadroomBytes, options.maxMemoryMb);
  if (options.wasi !== undefined) {
    checkWasiOptions(options.wasi);
    if (typeof options.wasi.stdout === 'function' || typeof options.wasi.stderr === 'function') {
      throw new InvalidArgumentError(
        "In a Worker, wasi.stdout and wasi.stderr are 'log', 'capture', 'inherit' or 'ignore' " +
          '(functions cannot cross to threads); capture gives each call its output in info.',
      );
    }
  }
  if ((options.wasmFile === undefined) === (options.wasmBinary === undefined)) {
    throw new InvalidArgumentError('Pass exactly one of options.wasmFile and options.wasmBinary.');
  }
  return threadScale(options);
}

/**
 * minThreads/maxThreads, or `threads` for both. Given only maxThreads, one thread stays at rest;
 * given only minThreads, the pool grows to the cores (or minThreads if more).
 */
function threadScale(options: WorkerOptions): ThreadScale {
  const { threads, minThreads, maxThreads } = options;
  if (threads !== undefined && (minThreads !== undefined || maxThreads !== undefined)) {
    throw new InvalidArgumentError(
      'Pass either options.threads (a fixed pool) or options.minThreads/maxThreads (a pool that ' +
        'scales with load), not both.',
    );
  }
  const max = maxThreads ?? threads ?? Math.max(availableParallelism(), minThreads ?? 0);
  const min = minThreads ?? threads ?? (maxThreads === undefined ? max : 1);
  if (min > max) {
    throw new InvalidArgumentError(
      `options.minThreads (${min}) is above options.maxThreads (${max}); lower minThreads or ` +
        `raise maxThreads.`,
    );
  }
  return { min, max, idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs };
}

/** How a worker compiles its module, at start and for every reload. */
export function compileOptions(options: WorkerOptions): CompileOptions {
  return { maxMemoryMb: options.maxMemoryMb, isolation: options.isolation };
}

/** What every thread of a pool serving `compiled` as `version` starts with. */
export function threadData(
  options: Required<Pick<WorkerOptions, keyof typeof DEFAULTS>> & WorkerOptions,
  probe: ThreadData['probe'],
  compiled: CompiledModule,
  version: number,
): ThreadData {
  return {
    compiled,
    version,
    resultHeadroomBytes: options.resultHeadroomBytes,
    maxImagePixels: options.maxImagePixels,
    importsModule: moduleSpecifier(options.importsModule),
    recycle: {
      // 'call' isolation of a component: no snapshot yet, so a fresh instance for every call.
      maxCallsPerInstance:
        compiled.component && compiled.isolation === 'call' ? 1 : options.maxCallsPerInstance,
      maxInstanceAgeMs: options.maxInstanceAgeMs,
      maxMemoryBytes: options.recycleMemoryMb * 1024 * 1024,
    },
    slots: options.pipelineDepth,
    spinUs: options.spinUs,
    probe,
    wasi: options.wasi,
    abi: options.abi,
    hostModule: moduleSpecifier(options.hostModule),
    remoteHost: options.hostFunctions && hostSignatures(options.hostFunctions),
    remoteWapc: options.hostCall !== undefined || options.logger !== undefined,
  };
}
