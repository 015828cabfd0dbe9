import { ExportSignatureError, InvalidArgumentError } from '../errors.js';
import type { GuestAccess } from './guest-access.js';
import {
  checkSignature,
  checkValue,
  defaultResult,
  freeAll,
  inferTypes,
  liftResult,
  lowerArgs,
  TYPED_VALUES,
  type TypedResult,
  type TypedValue,
} from './typed-values.js';

/** Options of a typed call. */
export interface TypedCallOptions {
  /** Parameter types; default: inferred from the arguments and the export's signature. */
  params?: TypedValue[];
  /** Result type; default: the export's own (`i32`, `i64`, `f32`, `f64` or `void`). */
  returns?: TypedResult;
}

/**
 * Calls an export with plain values (Hyperlight's `call_guest_function`), checked against its
 * real signature; strings and bytes go through guest memory with the allocator ABI.
 */
export function typedCall(
  guest: GuestAccess,
  name: string,
  args: readonly unknown[],
  options: TypedCallOptions,
): unknown {
  if (!Array.isArray(args))
    throw new InvalidArgumentError('call() takes its arguments as an array.');
  const signature = guest.info?.exports.find(
    (e) => e.name === name && e.kind === 'function',
  )?.signature;
  const fn = guest.exportedFunction(name);
  if (!signature) {
    throw new ExportSignatureError(
      `The signature of "${name}" could not be read from the binary, so a typed call cannot be checked.`,
    );
  }
  const types = options.params ?? inferTypes(args, signature.params);
  if (!Array.isArray(types) || types.some((t) => !TYPED_VALUES.includes(t))) {
    throw new InvalidArgumentError(
      `options.params must list types among ${TYPED_VALUES.join(', ')}.`,
    );
  }
  if (types.length !== args.length) {
    throw new InvalidArgumentError(`${types.length} parameter types for ${args.length} arguments.`);
  }
  const result = options.returns ?? defaultResult(signature.results);
  if (result !== 'void' && !TYPED_VALUES.includes(result)) {
    throw new InvalidArgumentError(
      `options.returns must be void or one of ${TYPED_VALUES.join(', ')}.`,
    );
  }
  checkSignature(`"${name}"`, types, result, signature);
  args.forEach((arg, i) => checkValue(arg, types[i]!, `Argument ${i} of ${name}`));
  const { wasmArgs, allocations } = lowerArgs(guest, args, types);
  const raw = guest.invoke(fn, name, wasmArgs as number[]);
  freeAll(guest, allocations);
  return liftResult(guest, raw, result, name);
}
