import type { CompiledModule, Isolation } from './compiled-module.js';
import { formatWitFunction, type WitFunction } from '../component/wit-types.js';
import { conventionOf, hasAllocator, type Convention } from './conventions.js';
import { formatSignature, type FunctionSignature } from './wasm-binary.js';

/** An exported function with its signature, as read from the binary. */
export interface ExportInfo {
  name: string;
  /**
   * How `callFunction` would call it (see docs/ABI.md). Any numeric signature can also be called
   * with typed calls (`call`), whatever this says.
   */
  convention: Convention;
  /** `undefined` if the binary uses features the signature reader does not cover. */
  signature: FunctionSignature | undefined;
  /** The signature in text form, e.g. `(i32, i32) -> i32`; for a component, its WIT type (`func(message: string) -> string`). */
  type: string;
  /** What a call of it sees of earlier calls' guest state (see `WasmtubeOptions.isolation`). */
  isolation: Isolation;
}

/** The module's exported functions, with signatures and calling conventions. */
export function describeExports(compiled: CompiledModule): ExportInfo[] {
  if (compiled.component) {
    return describeComponent(compiled.component.world.functions, compiled.isolation);
  }
  const exports = WebAssembly.Module.exports(compiled.module);
  const allocator = hasAllocator(exports);
  return exports
    .filter((e) => e.kind === 'function')
    .map(({ name }) => {
      const signature = compiled.info?.exports.find((e) => e.name === name)?.signature;
      return {
        name,
        convention: conventionOf(name, signature, allocator),
        signature,
        type: signature ? formatSignature(signature) : 'unknown',
        isolation: compiled.isolation,
      };
    });
}

/** A component's functions as `exports()` lists them: WIT types, no core signature. */
export function describeComponent(
  functions: readonly WitFunction[],
  isolation: Isolation,
): ExportInfo[] {
  return functions.map((fn) => ({
    name: fn.name,
    convention: 'component',
    signature: undefined,
    type: formatWitFunction(fn),
    isolation,
  }));
}
