/**
 * The WIT types of a component's exported functions, as read from its world (see wit-parse.ts),
 * and their text form for `exports()`, `wasmtube inspect` and `GET /functions/<m>`.
 */

/** A WIT primitive type. */
export type WitPrimitive =
  | 'bool'
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 's8'
  | 's16'
  | 's32'
  | 's64'
  | 'f32'
  | 'f64'
  | 'char'
  | 'string';

/** A WIT value type, resolved: named types point at their definition. */
export type WitType =
  | { kind: 'primitive'; name: WitPrimitive }
  | { kind: 'list'; element: WitType }
  | { kind: 'option'; some: WitType }
  | { kind: 'result'; ok: WitType | undefined; err: WitType | undefined }
  | { kind: 'tuple'; elements: WitType[] }
  | { kind: 'record'; name: string; fields: { name: string; type: WitType }[] }
  | { kind: 'variant'; name: string; cases: { name: string; type: WitType | undefined }[] }
  | { kind: 'enum'; name: string; cases: string[] }
  | { kind: 'flags'; name: string; flags: string[] }
  /** A type wasmtube does not map (a resource, or one `use`d from an interface): passed as is. */
  | { kind: 'opaque'; name: string };

/** An exported function of a component's world. */
export interface WitFunction {
  name: string;
  params: { name: string; type: WitType }[];
  result: WitType | undefined;
}

/** What wasmtube knows of a component's world. */
export interface ComponentWorld {
  /** Exported functions by name (world-level exports, as `export name: func(...)`). */
  functions: WitFunction[];
  /** Imported interfaces as written in the world, version included (`wasi:cli/environment@0.2.0`). */
  imports: string[];
  /** The world as the component declares it, in WIT. */
  wit: string;
}

export const PRIMITIVES: readonly WitPrimitive[] = [
  'bool',
  'u8',
  'u16',
  'u32',
  'u64',
  's8',
  's16',
  's32',
  's64',
  'f32',
  'f64',
  'char',
  'string',
];

/** The type as written in WIT: a name for named types, else its structure. */
export function formatWitType(type: WitType | undefined): string {
  if (type === undefined) return '_';
  switch (type.kind) {
    case 'primitive':
      return type.name;
    case 'list':
      return `list<${formatWitType(type.element)}>`;
    case 'option':
      return `option<${formatWitType(type.some)}>`;
    case 'result':
      if (!type.ok && !type.err) return 'result';
      if (!type.err) return `result<${formatWitType(type.ok)}>`;
      return `result<${formatWitType(type.ok)}, ${formatWitType(type.err)}>`;
    case 'tuple':
      return `tuple<${type.elements.map(formatWitType).join(', ')}>`;
    default:
      return type.name;
  }
}

/** `func(message: string) -> string`. */
export function formatWitFunction(fn: WitFunction): string {
  const params = fn.params.map((p) => `${p.name}: ${formatWitType(p.type)}`).join(', ');
  return `func(${params})${fn.result ? ` -> ${formatWitType(fn.result)}` : ''}`;
}

/** The definition of a named type, in WIT (`record point { x: s32, y: s32 }`), or undefined. */
export function formatWitDefinition(type: WitType): string | undefined {
  switch (type.kind) {
    case 'record':
      return `record ${type.name} { ${type.fields.map((f) => `${f.name}: ${formatWitType(f.type)}`).join(', ')} }`;
    case 'variant':
      return `variant ${type.name} { ${type.cases.map((c) => (c.type ? `${c.name}(${formatWitType(c.type)})` : c.name)).join(', ')} }`;
    case 'enum':
      return `enum ${type.name} { ${type.cases.join(', ')} }`;
    case 'flags':
      return `flags ${type.name} { ${type.flags.join(', ')} }`;
    default:
      return undefined;
  }
}

/** `kebab-case` → `camelCase`, as jco names functions, fields and flags. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `camelCase` → `kebab-case`: a jco name back in WIT's words, for messages. */
export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c, at: number) => `${at > 0 ? '-' : ''}${c.toLowerCase()}`);
}

/** An interface name without its version: `wasi:cli/environment@0.2.0` → `wasi:cli/environment`. */
export function unversioned(name: string): string {
  const at = name.indexOf('@');
  return at === -1 ? name : name.slice(0, at);
}
