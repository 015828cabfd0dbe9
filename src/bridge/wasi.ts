import { createRequire } from 'node:module';
import { debuglog } from 'node:util';
import { InvalidArgumentError, WasmInstantiateError } from '../errors.js';
import { checkOptionsObject } from './check-options.js';

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
  /**
   * Where the guest's stdout goes: `'log'` (`NODE_DEBUG=wasmtube` debug output), `'capture'`
   * (kept per call: `bridge.lastOutput`, a Worker call's `info.stdout`, a command's result),
   * `'inherit'` (this process's stdout), `'ignore'`, or a function receiving each write.
   * Default: `'log'`.
   */
  stdout?: WasiOutput;
  /** The same for stderr. Default: `'log'`. */
  stderr?: WasiOutput;
  /** What the guest reads from stdin. Default: nothing (end of file at once). */
  stdin?: string | Uint8Array;
}

/** A destination for a guest's stdout or stderr. */
export type WasiOutput = 'log' | 'capture' | 'inherit' | 'ignore' | ((text: string) => void);

/** Output captured from one call (`'capture'`). */
export interface CapturedOutput {
  stdout: string;
  stderr: string;
}

/**
 * Which WASI a guest speaks, by the module it imports from: `'preview1'`
 * (`wasi_snapshot_preview1`) or `'unstable'` (`wasi_unstable`, snapshot 0: older TinyGo and
 * Rust output).
 */
export type WasiVersion = 'preview1' | 'unstable';

/** The import module of each version, as node:wasi's `getImportObject()` names it. */
const NAMESPACES = { preview1: 'wasi_snapshot_preview1', unstable: 'wasi_unstable' } as const;

/**
 * The WASI version a module imports: `'unstable'` when it imports from `wasi_unstable`, otherwise
 * `'preview1'` (also for modules importing no WASI at all). One node:wasi context serves one
 * version, and the two differ in struct layouts and constants, so a module importing from both
 * is refused with `ERR_WASM_INSTANTIATE`.
 */
export function wasiVersion(module: WebAssembly.Module): WasiVersion {
  const imports = WebAssembly.Module.imports(module);
  const unstable = imports.filter((i) => i.module === NAMESPACES.unstable);
  if (unstable.length === 0) return 'preview1';
  const preview1 = imports.filter((i) => i.module === NAMESPACES.preview1);
  if (preview1.length > 0) {
    const names = [...unstable, ...preview1].map((i) => `${i.module}.${i.name}`);
    throw new WasmInstantiateError(
      'The module imports from both wasi_unstable and wasi_snapshot_preview1; one WASI context ' +
        'serves one version, and the two lay out some structures differently. Rebuild the guest ' +
        'against one of them (current toolchains emit wasi_snapshot_preview1).',
      { details: { imports: names, missing: [] } },
    );
  }
  return 'unstable';
}

/** One WASI context, bound to one instance. */
export interface WasiContext {
  imports: WebAssembly.Imports;
  /** Text captured since the last call to `takeOutput` (for `'capture'` destinations). */
  takeOutput(): CapturedOutput;
  /** Initialises a reactor (calls `_initialize` if exported) once the instance exists. */
  initialize(instance: WebAssembly.Instance): void;
  /** Runs a command's `_start`; returns its exit code. */
  start(instance: WebAssembly.Instance): number;
}

const OUTPUTS = ['log', 'capture', 'inherit', 'ignore'] as const;
const debug = debuglog('wasmtube');
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;

// Loaded on first use: importing node:wasi prints an ExperimentalWarning, which modules that do
// not use WASI should not cause.
const require = createRequire(import.meta.url);
type WasiModule = typeof import('node:wasi');
let wasiModule: WasiModule | undefined;

/** Checks the shape of `options.wasi` up front, with messages that name the field. */
export function checkWasiOptions(options: unknown): asserts options is WasiOptions {
  checkOptionsObject(
    options,
    'options.wasi ({ args?, env?, preopens?, stdin?, stdout?, stderr? })',
  );
  const { args, env, preopens, stdout, stderr, stdin } = options as WasiOptions;
  for (const [name, value] of [
    ['stdout', stdout],
    ['stderr', stderr],
  ] as const) {
    if (value !== undefined && typeof value !== 'function' && !OUTPUTS.includes(value)) {
      throw new InvalidArgumentError(
        `options.wasi.${name} must be one of ${OUTPUTS.join(', ')} or a function.`,
      );
    }
  }
  if (stdin !== undefined && typeof stdin !== 'string' && !(stdin instanceof Uint8Array)) {
    throw new InvalidArgumentError('options.wasi.stdin must be a string or a Uint8Array.');
  }
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
      Array.isArray(value) ||
      ArrayBuffer.isView(value) ||
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

/**
 * node:wasi warns that it is experimental when loaded, once in every thread that uses it. The
 * library chose it on purpose (docs say so); the warning would only bury real errors on stderr.
 */
function loadWasi(): WasiModule {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes('WASI')) return;
    (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return require('node:wasi') as WasiModule;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/**
 * Creates a fresh WASI context (each instance needs its own), for the version the module imports
 * (see {@link wasiVersion}); its imports are under that version's module name.
 */
export function createWasi(options: WasiOptions, version: WasiVersion = 'preview1'): WasiContext {
  wasiModule ??= loadWasi();
  const wasi = new wasiModule.WASI({
    version,
    args: options.args ?? [],
    env: options.env ?? {},
    preopens: options.preopens ?? {},
    returnOnExit: true,
  });
  const imports = wasi.getImportObject() as Record<string, Record<string, unknown>>;
  // fd_write, fd_read and proc_exit have the same signatures and iovec layout in both versions.
  const calls = imports[NAMESPACES[version]]!;
  // node:wasi reports proc_exit with a private symbol; throw something that carries the code.
  calls.proc_exit = (code: number) => {
    throw new GuestExit(code);
  };
  // stdio is ours, not the process's: stdin is what the caller gives, stdout/stderr go where
  // the options say.
  let memory: WebAssembly.Memory | undefined;
  const captured = { stdout: [] as string[], stderr: [] as string[] };
  const sinks = {
    1: outputSink(options.stdout ?? 'log', 'stdout', captured.stdout),
    2: outputSink(options.stderr ?? 'log', 'stderr', captured.stderr),
  };
  let stdin =
    typeof options.stdin === 'string'
      ? encoder.encode(options.stdin)
      : (options.stdin ?? new Uint8Array());
  const fdWrite = calls.fd_write as (...a: number[]) => number;
  calls.fd_write = (fd: number, iovs: number, iovsLen: number, nwritten: number) => {
    const sink = sinks[fd as 1 | 2];
    if (!sink || !memory) return fdWrite(fd, iovs, iovsLen, nwritten);
    const view = new DataView(memory.buffer);
    let total = 0;
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < iovsLen; i++) {
      const ptr = view.getUint32(iovs + i * 8, true);
      const len = view.getUint32(iovs + i * 8 + 4, true);
      chunks.push(new Uint8Array(memory.buffer, ptr, len));
      total += len;
    }
    sink(Buffer.concat(chunks));
    view.setUint32(nwritten, total, true);
    return ERRNO_SUCCESS;
  };
  const fdRead = calls.fd_read as (...a: number[]) => number;
  calls.fd_read = (fd: number, iovs: number, iovsLen: number, nread: number) => {
    if (fd !== 0) return fdRead(fd, iovs, iovsLen, nread);
    if (!memory) return ERRNO_BADF;
    const view = new DataView(memory.buffer);
    let total = 0;
    for (let i = 0; i < iovsLen && stdin.length > 0; i++) {
      const ptr = view.getUint32(iovs + i * 8, true);
      const len = Math.min(view.getUint32(iovs + i * 8 + 4, true), stdin.length);
      new Uint8Array(memory.buffer, ptr, len).set(stdin.subarray(0, len));
      stdin = stdin.subarray(len);
      total += len;
    }
    view.setUint32(nread, total, true);
    return ERRNO_SUCCESS;
  };
  const bind = (instance: WebAssembly.Instance) => {
    memory = instance.exports.memory as WebAssembly.Memory;
  };
  return {
    imports: imports as WebAssembly.Imports,
    takeOutput() {
      const out = { stdout: captured.stdout.join(''), stderr: captured.stderr.join('') };
      captured.stdout.length = 0;
      captured.stderr.length = 0;
      return out;
    },
    initialize(instance) {
      bind(instance);
      if (typeof instance.exports._start === 'function') return; // a command: run per call
      wasi.initialize(instance);
    },
    start(instance) {
      bind(instance);
      try {
        return wasi.start(instance);
      } catch (error) {
        if (error instanceof GuestExit) return error.exitCode;
        throw error;
      }
    },
  };
}

export function outputSink(
  target: WasiOutput,
  name: string,
  captured: string[],
): (bytes: Uint8Array) => void {
  if (typeof target === 'function') return (bytes) => target(decoder.decode(bytes));
  switch (target) {
    case 'capture':
      return (bytes) => void captured.push(decoder.decode(bytes));
    case 'inherit':
      return (bytes) => void (name === 'stdout' ? process.stdout : process.stderr).write(bytes);
    case 'ignore':
      return () => undefined;
    default:
      return (bytes) => debug('guest %s: %s', name, decoder.decode(bytes).trimEnd());
  }
}
