import { asBuffer } from './buffers.js';
import { ExportSignatureError, InvalidArgumentError } from '../errors.js';
import { copyIn, free, takeOutput } from './abi-alloc.js';
import type { GuestAccess } from './guest-access.js';
import type { ValueType } from './wasm-binary.js';

/** A value type of typed calls and host functions (docs/ABI.md). */
export type TypedValue = 'i32' | 'i64' | 'f32' | 'f64' | 'bool' | 'string' | 'bytes';
/** A result type: a value type or nothing. */
export type TypedResult = TypedValue | 'void';

export const TYPED_VALUES: readonly TypedValue[] = [
  'i32',
  'i64',
  'f32',
  'f64',
  'bool',
  'string',
  'bytes',
];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The wasm value types a typed value occupies: strings and bytes are (pointer, length). */
export function wasmTypes(type: TypedValue): ValueType[] {
  if (type === 'string' || type === 'bytes') return ['i32', 'i32'];
  if (type === 'bool') return ['i32'];
  return [type];
}

/** The wasm result type of a typed result: strings and bytes come back packed in an i64. */
export function wasmResult(type: TypedResult): ValueType[] {
  if (type === 'void') return [];
  if (type === 'string' || type === 'bytes') return ['i64'];
  return type === 'bool' ? ['i32'] : [type];
}

/** The types of `args`, from their JS types and the export's parameters where a number is ambiguous. */
export function inferTypes(args: readonly unknown[], params: readonly ValueType[]): TypedValue[] {
  let at = 0;
  return args.map((arg, i) => {
    let type: TypedValue;
    if (typeof arg === 'string') type = 'string';
    else if (arg instanceof Uint8Array) type = 'bytes';
    else if (typeof arg === 'bigint') type = 'i64';
    else if (typeof arg === 'boolean') type = 'bool';
    else if (typeof arg === 'number') {
      const wasm = params[at];
      type = wasm === 'f32' || wasm === 'f64' ? wasm : 'i32';
    } else {
      throw new InvalidArgumentError(
        `Argument ${i} is a ${typeof arg}; typed calls take numbers, bigints, booleans, strings ` +
          `and Uint8Arrays.`,
      );
    }
    at += wasmTypes(type).length;
    return type;
  });
}

/** Checks one JS value against its declared type. */
export function checkValue(value: unknown, type: TypedValue, what: string): void {
  const ok =
    type === 'i32'
      ? Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 32
      : type === 'i64'
        ? typeof value === 'bigint' && value >= -(2n ** 63n) && value < 2n ** 64n
        : type === 'f32' || type === 'f64'
          ? typeof value === 'number'
          : type === 'bool'
            ? typeof value === 'boolean'
            : type === 'string'
              ? typeof value === 'string'
              : value instanceof Uint8Array;
  if (!ok) {
    const kinds = { i32: 'a 32-bit integer', i64: 'a bigint', f32: 'a number', f64: 'a number' };
    const expected =
      kinds[type as keyof typeof kinds] ?? `a ${type === 'bytes' ? 'Uint8Array' : type}`;
    throw new InvalidArgumentError(`${what} must be ${expected} (${type}), got ${String(value)}.`);
  }
}

/** Fails with `ERR_EXPORT_SIGNATURE` unless the flattened types equal the real signature. */
export function checkSignature(
  what: string,
  types: readonly TypedValue[],
  result: TypedResult,
  actual: { params: readonly ValueType[]; results: readonly ValueType[] },
): void {
  const params = types.flatMap(wasmTypes);
  const results = wasmResult(result);
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((t, i) => t === b[i]);
  if (!same(params, actual.params) || !same(results, actual.results)) {
    const show = (p: readonly string[], r: readonly string[]) =>
      `(${p.join(', ')}) -> ${r.join(', ') || '()'}`;
    throw new ExportSignatureError(
      `${what} is ${show(actual.params, actual.results)}, but the call's types ` +
        `(${types.join(', ')}) -> ${result} need ${show(params, results)}. Strings and bytes ` +
        `take (ptr, len); string and bytes results are a packed i64.`,
      { details: { expected: { params, results }, actual } },
    );
  }
}

/** Turns typed values into wasm arguments, copying strings and bytes into guest memory. */
export function lowerArgs(
  guest: GuestAccess,
  args: readonly unknown[],
  types: readonly TypedValue[],
): { wasmArgs: unknown[]; allocations: [number, number][] } {
  const wasmArgs: unknown[] = [];
  const allocations: [number, number][] = [];
  try {
    args.forEach((arg, i) => {
      const type = types[i]!;
      if (type === 'string' || type === 'bytes') {
        needAllocator(guest, `a ${type} argument`);
        const bytes = type === 'string' ? encoder.encode(arg as string) : (arg as Uint8Array);
        const ptr = copyIn(guest, bytes);
        allocations.push([ptr, bytes.length]);
        wasmArgs.push(ptr, bytes.length);
      } else if (type === 'bool') wasmArgs.push(arg ? 1 : 0);
      else wasmArgs.push(arg);
    });
  } catch (error) {
    freeAll(guest, allocations);
    throw error;
  }
  return { wasmArgs, allocations };
}

export function freeAll(guest: GuestAccess, allocations: [number, number][]): void {
  for (const [ptr, length] of allocations) free(guest, ptr, length);
}

/** Turns a wasm result into the typed value the call asked for. */
export function liftResult(
  guest: GuestAccess,
  raw: unknown,
  type: TypedResult,
  fn: string,
): unknown {
  switch (type) {
    case 'void':
      return undefined;
    case 'bool':
      return raw !== 0;
    case 'string':
    case 'bytes': {
      needAllocator(guest, `a ${type} result`);
      const bytes = takeOutput(guest, raw as bigint, fn);
      return type === 'string' ? decoder.decode(bytes) : asBuffer(bytes);
    }
    default:
      return raw;
  }
}

/** The typed result matching a wasm result list, when the caller did not say. */
export function defaultResult(results: readonly ValueType[]): TypedResult {
  const [first] = results;
  if (first === undefined) return 'void';
  if (first === 'i32' || first === 'i64' || first === 'f32' || first === 'f64') return first;
  throw new ExportSignatureError(
    `Results of type ${results.join(', ')} are not supported by typed calls.`,
  );
}

function needAllocator(guest: GuestAccess, what: string): void {
  if (!guest.hasAllocator) {
    throw new ExportSignatureError(
      `Passing ${what} needs the guest to export wasmtube_alloc and wasmtube_free (docs/ABI.md).`,
    );
  }
}
