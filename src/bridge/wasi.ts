import { createRequire } from 'node:module';
import { InvalidArgumentError } from '../errors.js';

/**
 * WASI preview 1 for a guest, through `node:wasi`. Nothing is granted by default: no arguments,
 * no environment variables, no directories.
 */
export interface WasiOptions {
  /** `argv` the guest sees. Default: `[]`. */
  args?: string[];
  /** Environment variables the guest sees. Default: none. */
  env?: Record<string, string>;
  /** Directories the guest may open: guest path → host path. Default: none. */
  preopens?: Record<string, string>;
}

/** One WASI context, bound to one instance. */
export interface WasiContext {
  imports: WebAssembly.Imports;
  /** Initialises a reactor (calls `_initialize` if exported) once the instance exists. */
  initialize(instance: WebAssembly.Instance): void;
  /** Runs a command's `_start`; returns its exit code. */
  start(instance: WebAssembly.Instance): number;
}

// Loaded on first use: importing node:wasi prints an ExperimentalWarning, which modules that do
// not use WASI should not cause.
const require = createRequire(import.meta.url);
type WasiModule = typeof import('node:wasi');
let wasiModule: WasiModule | undefined;

/** Checks the shape of `options.wasi` up front, with messages that name the field. */
export function checkWasiOptions(options: unknown): asserts options is WasiOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options.wasi must be an object: { args?, env?, preopens? }.');
  }
  const { args, env, preopens } = options as WasiOptions;
  if (args !== undefined && !(Array.isArray(args) && args.every((a) => typeof a === 'string'))) {
    throw new InvalidArgumentError('options.wasi.args must be an array of strings.');
  }
  for (const [name, value] of [
    ['env', env],
    ['preopens', preopens],
  ] as const) {
    if (value === undefined) continue;
    if (
      typeof value !== 'object' ||
      value === null ||
      Object.values(value).some((v) => typeof v !== 'string')
    ) {
      throw new InvalidArgumentError(`options.wasi.${name} must be an object of strings.`);
    }
  }
}

/** Thrown out of a guest call when the guest calls `proc_exit`. */
export class GuestExit extends Error {
  constructor(readonly exitCode: number) {
    super(`the guest called proc_exit(${exitCode})`);
    this.name = 'GuestExit';
  }
}

/** Creates a fresh WASI context (each instance needs its own). */
export function createWasi(options: WasiOptions): WasiContext {
  wasiModule ??= require('node:wasi') as WasiModule;
  const wasi = new wasiModule.WASI({
    version: 'preview1',
    args: options.args ?? [],
    env: options.env ?? {},
    preopens: options.preopens ?? {},
    returnOnExit: true,
  });
  const imports = wasi.getImportObject() as { wasi_snapshot_preview1: Record<string, unknown> };
  // node:wasi reports proc_exit with a private symbol; throw something that carries the code.
  imports.wasi_snapshot_preview1.proc_exit = (code: number) => {
    throw new GuestExit(code);
  };
  return {
    imports: imports as WebAssembly.Imports,
    initialize(instance) {
      if (typeof instance.exports._start === 'function') return; // a command: run per call
      wasi.initialize(instance);
    },
    start(instance) {
      try {
        return wasi.start(instance);
      } catch (error) {
        if (error instanceof GuestExit) return error.exitCode;
        throw error;
      }
    },
  };
}
