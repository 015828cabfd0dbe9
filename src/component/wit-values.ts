/**
 * Values of WIT types between callers and jco's representation of them: checked against the
 * type before the guest runs (`ERR_INVALID_ARGUMENT` naming the value's path), and turned back
 * into plain JS (typed calls) or JSON (`callFunction`).
 *
 * | WIT                 | in (JS or JSON)                                   | out: JS          | out: JSON                  |
 * | ------------------- | ------------------------------------------------- | ---------------- | -------------------------- |
 * | u64, s64            | bigint, safe integer, or (JSON) a decimal string  | bigint           | number if safe, else string |
 * | record              | object keyed by WIT field names (or camelCase)    | WIT field names  | WIT field names            |
 * | option<T>           | null / undefined for none                         | undefined / T    | null / T                   |
 * | result<T, E>        | `{ ok: T }`, `{ err: E }` or `{ tag, val }`        | `{ ok }`/`{ err }` | the same                 |
 * | variant             | `{ tag: 'case', val? }`                             | the same         | the same                   |
 * | enum                | the case name                                     | the same         | the same                   |
 * | flags               | object of booleans, or an array of the names set  | object           | object                     |
 * | list<u8>            | Uint8Array or array of numbers                    | Uint8Array       | array of numbers           |
 */
import { InvalidArgumentError } from '../errors.js';
import { camelCase, formatWitType, type WitType } from './wit-types.js';

/** Who gave the value and wants the result: a typed call (`'js'`) or a JSON call (`'json'`). */
export type ValueMode = 'js' | 'json';

const RANGES: Record<string, [number, number]> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffffffff],
  s8: [-0x80, 0x7f],
  s16: [-0x8000, 0x7fff],
  s32: [-0x80000000, 0x7fffffff],
};
const RANGES_64: Record<string, [bigint, bigint]> = {
  u64: [0n, 2n ** 64n - 1n],
  s64: [-(2n ** 63n), 2n ** 63n - 1n],
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !ArrayBuffer.isView(value);

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 60)}…` : text;
  } catch {
    return typeof value;
  }
}

function mismatch(path: string, type: WitType, value: unknown, hint = ''): never {
  throw new InvalidArgumentError(
    `${path} must be a ${formatWitType(type)}${hint}, got ${show(value)}.`,
    { details: { path, type: formatWitType(type) } },
  );
}

/** A field of `value` by its WIT name or jco's camelCase form. */
function field(value: Record<string, unknown>, name: string): unknown {
  return name in value ? value[name] : value[camelCase(name)];
}

/** Checks `value` against `type` and returns jco's representation of it. */
export function lowerValue(value: unknown, type: WitType, mode: ValueMode, path: string): unknown {
  switch (type.kind) {
    case 'primitive': {
      const { name } = type;
      if (name === 'bool') return typeof value === 'boolean' ? value : mismatch(path, type, value);
      if (name === 'string') return typeof value === 'string' ? value : mismatch(path, type, value);
      if (name === 'char') {
        return typeof value === 'string' && [...value].length === 1
          ? value
          : mismatch(path, type, value, ' (one Unicode character)');
      }
      if (name === 'f32' || name === 'f64') {
        return typeof value === 'number' ? value : mismatch(path, type, value, ' (a number)');
      }
      const range64 = RANGES_64[name];
      if (range64) {
        let big: bigint | undefined;
        if (typeof value === 'bigint') big = value;
        else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value);
        else if (mode === 'json' && typeof value === 'string' && /^-?[0-9]{1,20}$/.test(value)) {
          big = BigInt(value);
        }
        if (big === undefined || big < range64[0] || big > range64[1]) {
          mismatch(
            path,
            type,
            value,
            ` (an integer ${range64[0]}..${range64[1]}${mode === 'json' ? ', as a number or a decimal string' : ''})`,
          );
        }
        return big;
      }
      const [min, max] = RANGES[name]!;
      return Number.isInteger(value) && (value as number) >= min && (value as number) <= max
        ? value
        : mismatch(path, type, value, ` (an integer ${min}..${max})`);
    }
    case 'list': {
      const element = type.element;
      if (element.kind === 'primitive' && element.name === 'u8' && value instanceof Uint8Array) {
        return value;
      }
      if (!Array.isArray(value)) mismatch(path, type, value, ' (an array)');
      return value.map((item, i) => lowerValue(item, element, mode, `${path}[${i}]`));
    }
    case 'option':
      return value === null || value === undefined
        ? undefined
        : lowerValue(value, type.some, mode, path);
    case 'result': {
      if (!isObject(value)) mismatch(path, type, value, ' ({ ok } or { err })');
      const tag =
        'tag' in value ? value.tag : 'ok' in value ? 'ok' : 'err' in value ? 'err' : undefined;
      const val = 'tag' in value ? value.val : value[tag as string];
      if (tag !== 'ok' && tag !== 'err') mismatch(path, type, value, ' ({ ok } or { err })');
      const inner = tag === 'ok' ? type.ok : type.err;
      return { tag, val: inner ? lowerValue(val, inner, mode, `${path}.${tag}`) : undefined };
    }
    case 'tuple':
      if (!Array.isArray(value) || value.length !== type.elements.length) {
        mismatch(path, type, value, ` (an array of ${type.elements.length})`);
      }
      return type.elements.map((t, i) => lowerValue(value[i], t, mode, `${path}[${i}]`));
    case 'record': {
      if (!isObject(value)) mismatch(path, type, value, ' (an object)');
      const known = new Set(type.fields.flatMap((f) => [f.name, camelCase(f.name)]));
      const unknown = Object.keys(value).filter((k) => !known.has(k));
      if (unknown.length > 0) {
        mismatch(
          path,
          type,
          value,
          ` (unknown field ${unknown.join(', ')}; fields: ${type.fields.map((f) => f.name).join(', ')})`,
        );
      }
      const out: Record<string, unknown> = {};
      for (const f of type.fields) {
        out[camelCase(f.name)] = lowerValue(
          field(value, f.name),
          f.type,
          mode,
          `${path}.${f.name}`,
        );
      }
      return out;
    }
    case 'variant': {
      const names = type.cases.map((c) => c.name).join(', ');
      const chosen = isObject(value) ? type.cases.find((c) => c.name === value.tag) : undefined;
      if (!chosen) mismatch(path, type, value, ` ({ tag, val } with tag one of ${names})`);
      const val = (value as Record<string, unknown>).val;
      return chosen.type
        ? { tag: chosen.name, val: lowerValue(val, chosen.type, mode, `${path}.val`) }
        : { tag: chosen.name };
    }
    case 'enum':
      return typeof value === 'string' && type.cases.includes(value)
        ? value
        : mismatch(path, type, value, ` (one of ${type.cases.join(', ')})`);
    case 'flags': {
      const set = new Set<string>();
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
        for (const v of value) set.add(v);
      } else if (isObject(value)) {
        for (const [k, v] of Object.entries(value)) {
          if (typeof v !== 'boolean') mismatch(path, type, value, ' (booleans by flag name)');
          if (v) set.add(k);
        }
      } else mismatch(path, type, value, ' (an array of flag names or an object of booleans)');
      const out: Record<string, boolean> = {};
      const names = new Set(type.flags.flatMap((f) => [f, camelCase(f)]));
      for (const name of set) {
        if (!names.has(name)) mismatch(path, type, value, ` (flags: ${type.flags.join(', ')})`);
      }
      for (const f of type.flags) out[camelCase(f)] = set.has(f) || set.has(camelCase(f));
      return out;
    }
    case 'opaque':
      return value;
  }
}

/** Turns jco's representation of a `type` value into plain JS or JSON. */
export function liftValue(value: unknown, type: WitType, mode: ValueMode): unknown {
  switch (type.kind) {
    case 'primitive':
      if (mode === 'json' && typeof value === 'bigint') {
        return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(value)
          : value.toString();
      }
      return value;
    case 'list': {
      const element = type.element;
      if (mode === 'js' && element.kind === 'primitive' && element.name === 'u8') return value;
      return Array.from(value as ArrayLike<unknown>, (item) => liftValue(item, element, mode));
    }
    case 'option':
      if (value === null || value === undefined) return mode === 'json' ? null : undefined;
      return liftValue(value, type.some, mode);
    case 'result': {
      const { tag, val } = value as { tag: 'ok' | 'err'; val: unknown };
      const inner = tag === 'ok' ? type.ok : type.err;
      return { [tag]: inner ? liftValue(val, inner, mode) : null };
    }
    case 'tuple':
      return type.elements.map((t, i) => liftValue((value as unknown[])[i], t, mode));
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const f of type.fields) {
        out[f.name] = liftValue(
          (value as Record<string, unknown>)[camelCase(f.name)],
          f.type,
          mode,
        );
      }
      return out;
    }
    case 'variant': {
      const { tag, val } = value as { tag: string; val?: unknown };
      const chosen = type.cases.find((c) => c.name === tag);
      return chosen?.type ? { tag, val: liftValue(val, chosen.type, mode) } : { tag };
    }
    case 'flags': {
      const out: Record<string, boolean> = {};
      for (const f of type.flags)
        out[f] = Boolean((value as Record<string, unknown>)[camelCase(f)]);
      return out;
    }
    default:
      return value;
  }
}
