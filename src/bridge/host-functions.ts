import { asBuffer } from './buffers.js';
import { HostFunctionError, InvalidArgumentError, WasmInstantiateError } from '../errors.js';
import { copyIn, pack } from './abi-alloc.js';
import type { GuestAccess } from './guest-access.js';
import {
  checkSignature,
  checkValue,
  TYPED_VALUES,
  wasmTypes,
  type TypedResult,
  type TypedValue,
} from './typed-values.js';
import type { ModuleInfo } from './wasm-binary.js';

/** A function the host grants the guest, with the types it takes and returns (docs/ABI.md). */
export interface HostFunction {
  /** Parameter types as the host function sees them. Default: `[]`. */
  params?: TypedValue[];
  /** Result type. Default: `'void'`. */
  returns?: TypedResult;
  /** The implementation. In-process it must be synchronous; main-thread host functions of a Worker may be async. */
  fn: (...args: never[]) => unknown;
}

/**
 * Granted functions by import module and name, e.g. `{ env: { log: { params: ['string'], fn } } }`.
 * For a component, by interface and WIT function name, where the WIT types apply and a plain
 * function will do: `{ 'example:cipher/audit-log': { log: (msg) => ... } }` (a plain function is
 * `{ fn }`: no parameters and no result for a core module).
 */
export type HostFunctions = Record<string, Record<string, HostFunction | HostFunction['fn']>>;

/** The implementation of a granted function, given as `{ fn }` or as the function itself. */
export function implementationOf(
  def: HostFunction | HostFunction['fn'] | undefined,
): ((...args: unknown[]) => unknown) | undefined {
  const fn = typeof def === 'function' ? def : def?.fn;
  return fn as ((...args: unknown[]) => unknown) | undefined;
}

/** The declared types of host functions, without implementations (what crosses to a thread). */
export type HostSignatures = Record<
  string,
  Record<string, { params: TypedValue[]; returns: TypedResult }>
>;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Thrown out of a guest call when a host function fails; the guest instance maps it to ERR_HOST_FUNCTION. */
export class HostCallFailure extends Error {
  constructor(
    readonly functionName: string,
    readonly failure: unknown,
  ) {
    super(
      `host function ${functionName} failed: ${(failure as Error)?.message ?? String(failure)}`,
    );
    this.name = 'HostCallFailure';
  }
}

/** Validates definitions and returns their signatures (for threads and for checking the module). */
export function hostSignatures(functions: HostFunctions): HostSignatures {
  if (typeof functions !== 'object' || functions === null) {
    throw new InvalidArgumentError(
      'hostFunctions must be { module: { name: { params, returns, fn } } }.',
    );
  }
  const out: HostSignatures = {};
  for (const [module, entries] of Object.entries(functions)) {
    out[module] = {};
    for (const [name, given] of Object.entries(entries ?? {})) {
      const def = typeof given === 'function' ? { fn: given } : given;
      const where = `hostFunctions.${module}.${name}`;
      if (typeof def?.fn !== 'function')
        throw new InvalidArgumentError(`${where}.fn must be a function.`);
      const params = def.params ?? [];
      const returns = def.returns ?? 'void';
      if (!Array.isArray(params) || params.some((p) => !TYPED_VALUES.includes(p))) {
        throw new InvalidArgumentError(
          `${where}.params must list types among ${TYPED_VALUES.join(', ')}.`,
        );
      }
      if (returns !== 'void' && !TYPED_VALUES.includes(returns)) {
        throw new InvalidArgumentError(
          `${where}.returns must be void or one of ${TYPED_VALUES.join(', ')}.`,
        );
      }
      out[module]![name] = { params, returns };
    }
  }
  return out;
}

/**
 * Checks every granted function against the module's import of the same name, so a wrong
 * declaration fails at load time with both signatures rather than corrupting values at run time.
 */
export function checkAgainstImports(
  signatures: HostSignatures,
  info: ModuleInfo | undefined,
): void {
  for (const imp of info?.imports ?? []) {
    const declared = signatures[imp.module]?.[imp.name];
    if (!declared || imp.kind !== 'function' || !imp.signature) continue;
    try {
      checkSignature(
        `The import ${imp.module}.${imp.name}`,
        declared.params,
        declared.returns,
        imp.signature,
      );
    } catch (error) {
      throw new WasmInstantiateError((error as Error).message, {
        cause: error,
        details: { import: `${imp.module}.${imp.name}` },
      });
    }
  }
}

/**
 * Builds the WebAssembly imports for host functions. `invoke(module, name, args)` runs the
 * implementation with decoded arguments and returns its (synchronous) result.
 */
export function hostImports(
  signatures: HostSignatures,
  guest: () => GuestAccess,
  invoke: (module: string, name: string, args: unknown[]) => unknown,
): WebAssembly.Imports {
  const imports: WebAssembly.Imports = {};
  for (const [module, entries] of Object.entries(signatures)) {
    const table: Record<string, (...raw: unknown[]) => unknown> = {};
    for (const [name, { params, returns }] of Object.entries(entries)) {
      const label = `${module}.${name}`;
      table[name] = (...raw) => {
        try {
          const args = liftArgs(guest(), raw, params);
          const result = invoke(module, name, args);
          return lowerResult(guest(), result, returns, label);
        } catch (error) {
          throw error instanceof HostCallFailure ? error : new HostCallFailure(label, error);
        }
      };
    }
    imports[module] = table;
  }
  return imports;
}

/** Runs an in-process host function; a promise cannot be waited for inside a wasm call. */
export function invokeSync(functions: HostFunctions) {
  return (module: string, name: string, args: unknown[]): unknown => {
    const result = implementationOf(functions[module]![name])!(...args);
    if (result instanceof Promise || typeof (result as { then?: unknown })?.then === 'function') {
      (result as Promise<unknown>).catch(() => undefined);
      throw new TypeError(
        'it returned a promise; in-process host functions must be synchronous (use a Worker, whose main-thread host functions may be async)',
      );
    }
    return result;
  };
}

function liftArgs(guest: GuestAccess, raw: unknown[], params: readonly TypedValue[]): unknown[] {
  const args: unknown[] = [];
  let at = 0;
  for (const type of params) {
    if (type === 'string' || type === 'bytes') {
      const bytes = guest.memory.read(raw[at] as number, raw[at + 1] as number);
      args.push(type === 'string' ? decoder.decode(bytes) : asBuffer(bytes));
    } else if (type === 'bool') args.push(raw[at] !== 0);
    else args.push(raw[at]);
    at += wasmTypes(type).length;
  }
  return args;
}

function lowerResult(
  guest: GuestAccess,
  value: unknown,
  type: TypedResult,
  label: string,
): unknown {
  if (type === 'void') return undefined;
  checkValue(value, type, `The result of host function ${label}`);
  if (type === 'bool') return value ? 1 : 0;
  if (type === 'string' || type === 'bytes') {
    const bytes = type === 'string' ? encoder.encode(value as string) : (value as Uint8Array);
    return pack(copyIn(guest, bytes), bytes.length);
  }
  return value;
}

/** The error a failed host function becomes. */
export function hostFunctionError(
  name: string,
  failure: HostCallFailure,
): InstanceType<typeof HostFunctionError> {
  const cause = failure.failure;
  return new HostFunctionError(
    `"${name}" failed because host function ${failure.functionName} did: ` +
      `${(cause as Error)?.message ?? String(cause)}. The guest's instance was reset.`,
    { cause, details: { name, function: failure.functionName } },
  );
}
