/**
 * Checks of a call's name, options and arguments, shared by the bridge and a Worker's main
 * thread (where they run before a call is queued, so nothing malformed reaches a thread: a
 * value that cannot be cloned would fail there, outside the call's promise).
 */
import { InvalidArgumentError } from '../errors.js';
import {
  abortSignal,
  byteArray,
  checkOptionsObject,
  checkOptionValues,
  describeValue,
  type OptionCheck,
} from './check-options.js';
import { TYPED_VALUES } from './typed-values.js';
import { checkWasiOptions } from './wasi.js';

/** Per-call options of the in-process bridge; `returns` is checked with the input. */
export const BRIDGE_CALL_CHECKS: Readonly<Record<string, OptionCheck>> = {
  signal: abortSignal,
  resultBuffer: byteArray,
};

/** True for a possible function name: a non-empty string. */
export function isFunctionName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0;
}

/** Throws unless `name` is a function name (a non-empty string). */
export function checkName(name: unknown): asserts name is string {
  if (!isFunctionName(name)) {
    throw new InvalidArgumentError(
      `The function name must be a non-empty string, got ${describeValue(name)}.`,
    );
  }
}

/** Checks a call's options object and the values in `checks`. */
export function checkCallOptions(
  options: unknown,
  method: string,
  checks: Readonly<Record<string, OptionCheck>> = BRIDGE_CALL_CHECKS,
): void {
  checkOptionsObject(options, `The options of ${method}`);
  checkOptionValues(options, checks);
}

/** The options of `run` (`args`, `stdin`, and the call options in `checks`). */
export function checkRunOptions(
  options: unknown,
  method: string,
  checks: Readonly<Record<string, OptionCheck>> = BRIDGE_CALL_CHECKS,
): void {
  checkCallOptions(options, method, checks);
  const { args, stdin } = options as { args?: unknown; stdin?: unknown };
  if (args !== undefined) checkWasiOptions({ args });
  if (stdin instanceof Uint8Array) byteArray(stdin, 'options.stdin');
  else if (stdin !== undefined) checkWasiOptions({ stdin });
}

const TYPED_RESULTS: readonly string[] = [...TYPED_VALUES, 'void'];

/**
 * The arguments and options of a typed call, as far as they can be checked without the
 * export's signature (the guest's side checks them against it): an array of numbers, bigints,
 * booleans, strings and attached byte arrays; `params` listing typed values; `returns` one.
 */
export function checkTypedCall(
  args: unknown,
  options: unknown,
  method: string,
  checks: Readonly<Record<string, OptionCheck>> = BRIDGE_CALL_CHECKS,
): void {
  if (!Array.isArray(args)) {
    throw new InvalidArgumentError(
      `${method}() takes its arguments as an array, got ${describeValue(args)}.`,
    );
  }
  args.forEach((arg, i) => checkPlainValue(arg, `Argument ${i}`, 0));
  checkCallOptions(options, method, checks);
  const { params, returns } = options as { params?: unknown; returns?: unknown };
  if (
    params !== undefined &&
    !(Array.isArray(params) && params.every((t) => TYPED_VALUES.includes(t)))
  ) {
    throw new InvalidArgumentError(
      `options.params must be an array of ${TYPED_VALUES.join(', ')}, got ${describeValue(params)}.`,
    );
  }
  if (returns !== undefined && !TYPED_RESULTS.includes(returns as string)) {
    throw new InvalidArgumentError(
      `options.returns of a typed call must be one of ${TYPED_RESULTS.join(', ')}, got ` +
        `${describeValue(returns)}.`,
    );
  }
}

/**
 * A typed call's argument: a number, bigint, boolean, string or Uint8Array, or (for a
 * component's records, lists, options and variants) null, an array or a plain object of them.
 * Checked against the function's real types where it runs.
 */
function checkPlainValue(value: unknown, what: string, depth: number): void {
  if (value instanceof Uint8Array) return byteArray(value, what);
  if (['number', 'bigint', 'boolean', 'string'].includes(typeof value) || value === null) return;
  const plainObject =
    typeof value === 'object' &&
    [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null);
  if (depth < 64 && (Array.isArray(value) || plainObject)) {
    for (const [key, item] of Object.entries(value as object)) {
      if (item !== undefined) checkPlainValue(item, `${what}.${key}`, depth + 1);
    }
    return;
  }
  throw new InvalidArgumentError(
    `${what} must be a number, bigint, boolean, string or Uint8Array (or, for a component, ` +
      `null, an array or a plain object of them), got ${describeValue(value)}.`,
  );
}
