import type { GuestMemory } from './guest-memory.js';
import type { ModuleInfo, ValueType } from './wasm-binary.js';

/**
 * What the ABI helpers (`abi-alloc`, `abi-wasmtube`, `typed-values`, `typed-call`,
 * `host-functions`) need of a live guest: its memory, its exports and a way to call them.
 * `GuestInstance` implements it; the helpers depend on this interface rather than on the
 * instance, so the instance can use them without an import cycle.
 */
export interface GuestAccess {
  /** The instance's memory. Replaced when the instance is reset: read it again after a call. */
  readonly memory: GuestMemory;
  /** The module exports wasmtube_alloc and wasmtube_free (the allocator ABI). */
  readonly hasAllocator: boolean;
  /** The module's imports and exports with their signatures, if the binary could be read. */
  readonly info: ModuleInfo | undefined;
  /** Exported function `name`, unchecked; `ERR_EXPORT_NOT_FOUND` if absent. */
  exportedFunction(name: string): CallableFunction;
  /** Exported function `name`, checked to take `params` and return `result`. */
  resolve(name: string, params: readonly ValueType[], result: ValueType | 'void'): CallableFunction;
  /** Calls a guest function; a trap resets the instance and is rethrown as a typed error. */
  invoke(fn: CallableFunction, name: string, args: number[]): unknown;
  /** Discards the instance and all guest state, and instantiates the module again. */
  reset(): void;
}
