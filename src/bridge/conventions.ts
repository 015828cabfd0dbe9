import type { ModuleInfo, FunctionSignature } from './wasm-binary.js';

/** Which protocol the bridge uses for a module's calls; `auto` decides per module and function. */
export type Abi = 'auto' | 'wasmtube' | 'alloc' | 'wapc';

/** How an exported function can be called; see docs/ABI.md. */
export type Convention =
  /** `(index, length) -> i32`: the Wasmtube ABI, for `{ data }` and `{ bytes }`. */
  | 'wasmtube-data'
  /** `(index, length, width, height) -> i32`: the Wasmtube ABI, for `{ image }`. */
  | 'wasmtube-image'
  /** `(ptr, len) -> i64` in a module with an allocator: the allocator ABI. */
  | 'alloc-data'
  /** `(ptr, len, width, height) -> i64` with an allocator. */
  | 'alloc-image'
  /** `wasmtube_alloc` / `wasmtube_free` themselves. */
  | 'allocator'
  /** `__guest_call` of a waPC module: `callFunction(operation, ...)` and `invoke` go through it. */
  | 'wapc'
  /** Anything else: callable with typed calls (`call`). */
  | 'typed'
  /** A component's WIT function: `call` with typed values, `callFunction` with `{ data }` by name. */
  | 'component';

export const ALLOC = 'wasmtube_alloc';
export const FREE = 'wasmtube_free';

/** True when the module exports the allocator pair of the allocator ABI. */
export function hasAllocator(exports: readonly { name: string }[]): boolean {
  return exports.some((e) => e.name === ALLOC) && exports.some((e) => e.name === FREE);
}

const allI32 = (types: readonly string[]) => types.every((t) => t === 'i32');

/** Classifies one export by its signature (undefined signature: by name only). */
export function conventionOf(
  name: string,
  signature: FunctionSignature | undefined,
  allocator: boolean,
): Convention {
  if (name === ALLOC || name === FREE) return 'allocator';
  if (name === '__guest_call') return 'wapc';
  if (!signature) return 'typed';
  const { params, results } = signature;
  const dataOrImage = allI32(params) && (params.length === 2 || params.length === 4);
  if (dataOrImage && results.length === 1 && results[0] === 'i32') {
    return params.length === 2 ? 'wasmtube-data' : 'wasmtube-image';
  }
  if (dataOrImage && allocator && results.length === 1 && results[0] === 'i64') {
    return params.length === 2 ? 'alloc-data' : 'alloc-image';
  }
  return 'typed';
}

/**
 * The protocol `callFunction` uses for `name`: waPC for waPC modules (`name` is then an
 * operation), the allocator ABI when the module has an allocator and the function returns i64,
 * else the Wasmtube ABI; `abi` other than `auto` decides instead.
 */
export function callAbi(
  abi: Abi,
  info: ModuleInfo | undefined,
  allocator: boolean,
  wapc: boolean,
  name: string,
): Exclude<Abi, 'auto'> {
  if (abi !== 'auto') return abi;
  if (wapc) return 'wapc';
  if (!allocator) return 'wasmtube';
  const signature = info?.exports.find((e) => e.name === name)?.signature;
  return signature?.results[0] === 'i64' ? 'alloc' : 'wasmtube';
}
