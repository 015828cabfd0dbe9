/** Defaults and validation of `Worker.start` options. */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { checkWasiOptions } from '../bridge/wasi.js';
import { InvalidArgumentError } from '../errors.js';
import type { WorkerOptions } from './worker-types.js';

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
} as const;
export const OPTION_KEYS = new Set([
  'wasmFile',
  'wasmBinary',
  'name',
  'threads',
  'resultHeadroomBytes',
  'importsModule',
  'resourceLimits',
  'supervisor',
  'supervision',
  'maxMemoryMb',
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
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new InvalidArgumentError(
      `${name} must be a number of milliseconds ≥ 0, got ${String(value)}.`,
    );
  }
}

/** Validates `Worker.start` options up front; returns the thread count. */
export function checkOptions(options: WorkerOptions): number {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      'Worker.start needs an options object with wasmFile or wasmBinary.',
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new InvalidArgumentError(
        `Unknown option "${key}". Known options: ${[...OPTION_KEYS].join(', ')}.`,
      );
    }
  }
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
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new InvalidArgumentError(
      `options.threads must be a positive integer, got ${String(threads)}.`,
    );
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw new InvalidArgumentError('options.name must be a non-empty string.');
  }
  for (const key of ['timeoutMs', 'queueTimeoutMs'] as const) {
    if (options[key] !== undefined) checkMs(`options.${key}`, options[key]);
  }
  for (const key of [
    'startTimeoutMs',
    'maxQueue',
    'maxCallsPerInstance',
    'maxInstanceAgeMs',
    'recycleMemoryMb',
  ] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) {
      throw new InvalidArgumentError(`options.${key} must be a number ≥ 0, got ${String(value)}.`);
    }
  }
  if (options.maxCallsPerInstance === 0 || options.startTimeoutMs === 0) {
    throw new InvalidArgumentError('options.maxCallsPerInstance and startTimeoutMs must be > 0.');
  }
  const spare = options.spareThreads;
  if (spare !== undefined && (!Number.isInteger(spare) || spare < 0 || spare > 64)) {
    throw new InvalidArgumentError(
      `options.spareThreads must be an integer from 0 to 64, got ${String(spare)}.`,
    );
  }
  const depth = options.pipelineDepth;
  if (depth !== undefined && (!Number.isInteger(depth) || depth < 1 || depth > 1024)) {
    throw new InvalidArgumentError(
      `options.pipelineDepth must be an integer from 1 to 1024, got ${String(depth)}.`,
    );
  }
  const spin = options.spinUs;
  if (spin !== undefined && (typeof spin !== 'number' || !(spin >= 0) || spin > 100_000)) {
    throw new InvalidArgumentError(
      `options.spinUs must be a number of microseconds from 0 to 100000, got ${String(spin)}.`,
    );
  }
  return threads;
}
