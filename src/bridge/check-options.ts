/**
 * Validation shared by every public entry point: options objects, their keys, and the values
 * that recur (signals, buffers, integers, milliseconds). Each surface lists its checks in a
 * table and runs {@link checkOptionValues}; every failure is `ERR_INVALID_ARGUMENT` naming the
 * option and saying what to pass.
 */
import { InvalidArgumentError } from '../errors.js';

/** Checks one option's value (never `undefined`: absent options are skipped); throws if wrong. */
export type OptionCheck = (value: unknown, name: string) => void;

/** WebAssembly memory (wasm32) is at most 4 GiB; a headroom above it makes every call fail. */
export const MAX_RESULT_HEADROOM_BYTES = 2 ** 32 - 65_536;

/**
 * A short, safe rendering of any value for an error message. `String()` throws for a typed
 * array on a detached buffer, template literals throw for Symbols.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) {
    return isDetached(value)
      ? `a ${value.constructor.name} on a detached ArrayBuffer`
      : `a ${value.constructor.name}`;
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'bigint':
      return `${value}n (a BigInt)`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    case 'object':
      return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
    default:
      return String(value);
  }
}

/**
 * True for a view whose ArrayBuffer was transferred or detached. Node 20 lacks
 * `ArrayBuffer.prototype.detached` (V8 ≥ 11.4 has it); there, an empty view whose buffer
 * cannot be viewed again is detached. Shared memory is never detached.
 */
export function isDetached(view: ArrayBufferView): boolean {
  const buffer = view.buffer as ArrayBufferLike & { detached?: boolean };
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  if (view.byteLength !== 0 || !(buffer instanceof ArrayBuffer)) return false;
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true; // constructing a view throws only for a detached buffer
  }
}

/** Throws unless `options` is a plain options object (not null, an array, or a primitive). */
export function checkOptionsObject(
  options: unknown,
  what: string,
): asserts options is Record<string, unknown> {
  if (
    typeof options !== 'object' ||
    options === null ||
    Array.isArray(options) ||
    ArrayBuffer.isView(options)
  ) {
    throw new InvalidArgumentError(
      `${what} must be an options object (or omitted), got ${describeValue(options)}.`,
    );
  }
}

/**
 * Throws for the first key of `options` not in `known`, listing the known ones; `what` names
 * a key in the message (`'query parameter'`: `Unknown query parameter "x". Known query parameters: …`).
 */
export function checkKnownOptions(
  options: object,
  known: ReadonlySet<string>,
  what = 'option',
): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new InvalidArgumentError(
        `Unknown ${what} "${key}". Known ${what}s: ${[...known].join(', ')}.`,
      );
    }
  }
}

/** The entries of each table of checks, listed once (calls check their options every time). */
const tableEntries = new WeakMap<object, [string, OptionCheck][]>();

/** Runs each table entry on the option of that name when it is present (not `undefined`). */
export function checkOptionValues(
  options: Record<string, unknown>,
  checks: Readonly<Record<string, OptionCheck>>,
  prefix = 'options',
): void {
  let entries = tableEntries.get(checks);
  if (!entries) tableEntries.set(checks, (entries = Object.entries(checks)));
  for (const [key, check] of entries) {
    const value = options[key];
    if (value !== undefined) check(value, `${prefix}.${key}`);
  }
}

/** An integer from `min` to `max`. */
export const integerFrom =
  (min: number, max = Number.MAX_SAFE_INTEGER): OptionCheck =>
  (value, name) => {
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(
        `${name} must be an integer ${range}, got ${describeValue(value)}.`,
      );
    }
  };

/** A number of milliseconds ≥ 0 (Infinity allowed). */
export const milliseconds: OptionCheck = (value, name) => {
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new InvalidArgumentError(
      `${name} must be a number of milliseconds ≥ 0, got ${describeValue(value)}.`,
    );
  }
};

/** The longest delay a Node timer takes; a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A number of milliseconds from `min` to {@link MAX_TIMER_MS}, for options that set a timer. */
export const timerMs =
  (min: number): OptionCheck =>
  (value, name) => {
    if (typeof value !== 'number' || !(value >= min) || value > MAX_TIMER_MS) {
      throw new InvalidArgumentError(
        `${name} must be a number of milliseconds from ${min} to ${MAX_TIMER_MS} (about 24.8 ` +
          `days, the longest a Node timer waits), got ${describeValue(value)}.`,
      );
    }
  };

/** An AbortSignal (or an object that behaves as one: `aborted`, `reason`, event listeners). */
export const abortSignal: OptionCheck = (value, name) => {
  const signal = value as Partial<AbortSignal> | null;
  if (
    typeof signal !== 'object' ||
    signal === null ||
    typeof signal.aborted !== 'boolean' ||
    typeof signal.addEventListener !== 'function' ||
    typeof signal.removeEventListener !== 'function'
  ) {
    throw new InvalidArgumentError(
      `${name} must be an AbortSignal (e.g. AbortSignal.timeout(ms) or an AbortController's ` +
        `signal), got ${describeValue(value)}.`,
    );
  }
};

/** A Buffer or Uint8Array whose memory is still attached. */
export const byteArray: OptionCheck = (value, name) => {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidArgumentError(
      `${name} must be a Buffer or Uint8Array, got ${describeValue(value)}.`,
    );
  }
  if (isDetached(value)) {
    throw new InvalidArgumentError(
      `${name} is a view of a detached ArrayBuffer (it was transferred, e.g. by postMessage): ` +
        `pass a buffer that is still attached.`,
    );
  }
};

/** One of `values`. */
export const oneOf =
  (values: readonly unknown[]): OptionCheck =>
  (value, name) => {
    if (!values.includes(value)) {
      throw new InvalidArgumentError(
        `${name} must be one of ${values.join(', ')}, got ${describeValue(value)}.`,
      );
    }
  };

/** `options.resultHeadroomBytes`: what a guest's memory can hold past a payload. */
export const resultHeadroomBytes: OptionCheck = (value, name) => {
  if (
    !Number.isInteger(value) ||
    (value as number) < 0 ||
    (value as number) > MAX_RESULT_HEADROOM_BYTES
  ) {
    throw new InvalidArgumentError(
      `${name} must be an integer from 0 to ${MAX_RESULT_HEADROOM_BYTES} (4 GiB minus a ` +
        `64 KiB page, the most a guest's memory can hold), got ${describeValue(value)}.`,
    );
  }
};

/**
 * Throws when `resultHeadroomBytes` cannot fit under `maxMemoryMb`: every call would then fail
 * with `ERR_MEMORY_LIMIT`, which is a configuration error better reported up front.
 */
export function checkHeadroomFits(headroom: unknown, maxMemoryMb: unknown): void {
  if (typeof headroom !== 'number' || typeof maxMemoryMb !== 'number') return;
  if (headroom >= maxMemoryMb * 2 ** 20) {
    throw new InvalidArgumentError(
      `options.resultHeadroomBytes (${headroom}) does not fit under options.maxMemoryMb ` +
        `(${maxMemoryMb} MiB): every call would fail with ERR_MEMORY_LIMIT. Lower ` +
        `resultHeadroomBytes or raise maxMemoryMb.`,
    );
  }
}
