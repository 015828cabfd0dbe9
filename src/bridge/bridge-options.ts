/** The options of `Wasmtube.fromFile`/`fromBinary`/`fromCompiled`, and their checks. */
import type { WapcHostCall } from './abi-wapc.js';
import { checkWapcOptions } from './abi-wapc.js';
import {
  checkHeadroomFits,
  checkKnownOptions,
  checkOptionsObject,
  checkOptionValues,
  describeValue,
  integerFrom,
  oneOf,
  resultHeadroomBytes,
  type OptionCheck,
} from './check-options.js';
import { ISOLATIONS, type CompileOptions } from './compiled-module.js';
import type { Abi } from './conventions.js';
import type { GuestImports } from './guest-instance.js';
import type { HostFunctions } from './host-functions.js';
import { checkWasiOptions, type WasiOptions } from './wasi.js';
import { InvalidArgumentError } from '../errors.js';

/** Options for {@link Wasmtube.fromFile} and {@link Wasmtube.fromBinary}. */ export interface WasmtubeOptions extends CompileOptions {
  /**
   * Bytes kept free past each payload in the host-owned region, for results longer than their
   * input. A result longer than payload + headroom fails with `ERR_RESULT_OUT_OF_BOUNDS`.
   * Ignored for bridges made with `.index(n)`. Default: 1 MiB (untouched pages cost no RAM).
   */
  resultHeadroomBytes?: number;
  /**
   * Pixels an encoded image input (PNG, JPEG, ...) may declare: a larger one is refused from its
   * header with `ERR_IMAGE_TOO_LARGE`, before anything is decoded (a few hundred bytes of PNG can
   * declare gigabytes of pixels). Raw RGB input is not limited. Default: 40,000,000 (40 MP).
   */
  maxImagePixels?: number;
  /**
   * Raw WebAssembly imports for modules that import functions. Default: none; a module with
   * imports then fails with `ERR_WASM_INSTANTIATE` naming them.
   */
  imports?: GuestImports;
  /**
   * Run the guest with WASI preview 1 (node:wasi). Reactor modules are initialised
   * (`_initialize`). Nothing is granted by default. Default: no WASI.
   */
  wasi?: WasiOptions;
  /**
   * Functions the guest may import, with their types (docs/ABI.md): strings and bytes arrive
   * decoded, results are written back. In-process they must be synchronous. Default: none.
   */
  hostFunctions?: HostFunctions;
  /**
   * The protocol for `callFunction`: `'auto'` picks waPC for modules exporting `__guest_call`,
   * the allocator ABI for functions returning i64 in modules exporting
   * `wasmtube_alloc`/`wasmtube_free`, else the Wasmtube ABI. Default: `'auto'`.
   */
  abi?: Abi;
  /** waPC guests: answers their `__host_call`s (synchronously, in-process). Default: none. */
  hostCall?: WapcHostCall;
  /** waPC guests: receives `__console_log` lines. Default: `NODE_DEBUG=wasmtube` output. */
  logger?: (message: string) => void;
}

const OPTION_KEYS = new Set([
  'maxMemoryMb',
  'isolation',
  'resultHeadroomBytes',
  'maxImagePixels',
  'imports',
  'wasi',
  'hostFunctions',
  'abi',
  'hostCall',
  'logger',
]);
const ABIS: readonly Abi[] = ['auto', 'wasmtube', 'alloc', 'wapc'];

/** Checks for `fromFile`, `fromBinary` and `fromCompiled`, besides those of the parts. */
const OPTION_CHECKS: Readonly<Record<string, OptionCheck>> = {
  resultHeadroomBytes,
  maxImagePixels: integerFrom(1),
  abi: oneOf(ABIS),
  isolation: oneOf(ISOLATIONS),
  imports: (value, name) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(
        `${name} must be a WebAssembly imports object ({ module: { name: value } }), got ` +
          `${describeValue(value)}.`,
      );
    }
  },
  hostFunctions: (value, name) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(
        `${name} must be an object of { module: { name: { params, results, fn } } }, got ` +
          `${describeValue(value)}.`,
      );
    }
  },
};

export function checkOptions(options: WasmtubeOptions): void {
  checkOptionsObject(options, 'The options of Wasmtube.fromFile/fromBinary');
  checkKnownOptions(options, OPTION_KEYS);
  checkOptionValues(options, OPTION_CHECKS);
  checkHeadroomFits(options.resultHeadroomBytes, options.maxMemoryMb);
  if (options.wasi !== undefined) checkWasiOptions(options.wasi);
  checkWapcOptions(options);
}
