/**
 * Reads the world of a component from the WIT text wasm-tools prints for it (`componentWit`):
 * the exported functions with their types, and the imported interfaces. Types the world defines
 * (records, variants, enums, flags, aliases) are resolved; types it `use`s from an interface are
 * not printed with the world, so they stay opaque (passed to the guest as given).
 */
import {
  PRIMITIVES,
  type ComponentWorld,
  type WitFunction,
  type WitPrimitive,
  type WitType,
} from './wit-types.js';

/** A type expression before named types are resolved. */
type RawType =
  | { ref: string }
  | { generic: 'list' | 'option' | 'tuple'; args: RawType[] }
  | { generic: 'result'; args: (RawType | undefined)[] };

type Definition =
  | { kind: 'alias'; type: RawType }
  | { kind: 'record'; fields: { name: string; type: RawType }[] }
  | { kind: 'variant'; cases: { name: string; type: RawType | undefined }[] }
  | { kind: 'enum'; cases: string[] }
  | { kind: 'flags'; flags: string[] }
  | { kind: 'opaque' };

interface RawFunction {
  name: string;
  params: { name: string; type: RawType }[];
  result: RawType | undefined;
}

/** Parses the first world in `wit`; throws an `Error` saying where the text was not understood. */
export function parseWorld(wit: string): ComponentWorld {
  const tokens = tokenize(wit);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    const token = tokens[at++];
    if (token === undefined) throw new Error('unexpected end of the WIT text');
    return token;
  };
  const expect = (token: string) => {
    const got = next();
    if (got !== token) throw new Error(`expected "${token}" in the WIT text, found "${got}"`);
  };
  const list = <T>(open: string, close: string, item: () => T): T[] => {
    expect(open);
    const items: T[] = [];
    while (peek() !== close) {
      items.push(item());
      if (peek() === ',') next();
    }
    expect(close);
    return items;
  };
  const type = (): RawType => {
    const name = next();
    if (name === 'list' || name === 'option' || name === 'tuple') {
      return { generic: name, args: list('<', '>', type) };
    }
    if (name === 'result') {
      if (peek() !== '<') return { generic: 'result', args: [] };
      const args = list('<', '>', () => (peek() === '_' ? (next(), undefined) : type()));
      return { generic: 'result', args };
    }
    if (name === 'own' || name === 'borrow') {
      const [resource] = list('<', '>', type);
      return resource!;
    }
    return { ref: name };
  };
  const func = (name: string): RawFunction => {
    if (peek() === 'async') next(); // WASI preview 3 functions: the same types
    expect('func');
    const params = list('(', ')', () => {
      const param = next();
      expect(':');
      return { name: param, type: type() };
    });
    let result: RawType | undefined;
    if (peek() === '->') {
      next();
      result = type();
    }
    return { name, params, result };
  };

  while (at < tokens.length && peek() !== 'world') skipItem();
  if (at >= tokens.length) throw new Error('the WIT text declares no world');
  next();
  next(); // the world's name
  expect('{');
  const definitions = new Map<string, Definition>();
  const functions: RawFunction[] = [];
  const imports: string[] = [];
  while (peek() !== '}') {
    const keyword = next();
    if (keyword === 'import' || keyword === 'export') {
      const name = next();
      if (peek() === ':') {
        next();
        if (peek() === 'func' || peek() === 'async') {
          const fn = func(name);
          if (keyword === 'export') functions.push(fn);
          else imports.push(name);
        } else {
          imports.push(name);
          skipItem();
          continue;
        }
      } else if (keyword === 'import') imports.push(name);
      if (peek() === ';') next();
    } else if (keyword === 'use') {
      // use ns:pkg/iface.{a, b as c};
      while (peek() !== '{') next();
      for (const item of list('{', '}', () => {
        const used = next();
        if (peek() === 'as') {
          next();
          return next();
        }
        return used;
      })) {
        definitions.set(item, { kind: 'opaque' });
      }
      expect(';');
    } else if (keyword === 'type') {
      const name = next();
      expect('=');
      definitions.set(name, { kind: 'alias', type: type() });
      expect(';');
    } else if (keyword === 'record') {
      const name = next();
      const fields = list('{', '}', () => {
        const field = next();
        expect(':');
        return { name: field, type: type() };
      });
      definitions.set(name, { kind: 'record', fields });
    } else if (keyword === 'variant') {
      const name = next();
      const cases = list('{', '}', () => {
        const label = next();
        if (peek() !== '(') return { name: label, type: undefined };
        next();
        const payload = type();
        expect(')');
        return { name: label, type: payload };
      });
      definitions.set(name, { kind: 'variant', cases });
    } else if (keyword === 'enum' || keyword === 'flags') {
      const name = next();
      const names = list('{', '}', next);
      definitions.set(
        name,
        keyword === 'enum' ? { kind: 'enum', cases: names } : { kind: 'flags', flags: names },
      );
    } else if (keyword === 'resource') {
      definitions.set(next(), { kind: 'opaque' });
      if (peek() === ';') next();
      else skipItem();
    } else if (keyword === 'include') {
      skipItem();
    } else {
      throw new Error(`unexpected "${keyword}" in the world`);
    }
  }
  return {
    functions: functions.map((fn) => resolveFunction(fn, definitions)),
    imports,
    wit,
  };

  /** Skips to the end of the current item: its `;`, or its balanced `{ ... }` block. */
  function skipItem(): void {
    let depth = 0;
    while (at < tokens.length) {
      const token = tokens[at++];
      if (token === '{') depth++;
      else if (token === '}') {
        depth--;
        if (depth <= 0) return;
      } else if (token === ';' && depth === 0) return;
    }
  }
}

function resolveFunction(fn: RawFunction, definitions: Map<string, Definition>): WitFunction {
  const resolve = (raw: RawType, seen: readonly string[]): WitType => {
    if ('generic' in raw) {
      const args = raw.args.map((a) => (a ? resolve(a, seen) : undefined));
      if (raw.generic === 'list') return { kind: 'list', element: args[0]! };
      if (raw.generic === 'option') return { kind: 'option', some: args[0]! };
      if (raw.generic === 'tuple') return { kind: 'tuple', elements: args as WitType[] };
      return { kind: 'result', ok: args[0], err: args[1] };
    }
    const name = raw.ref;
    if ((PRIMITIVES as readonly string[]).includes(name)) {
      return { kind: 'primitive', name: name as WitPrimitive };
    }
    const definition = definitions.get(name);
    if (!definition || definition.kind === 'opaque' || seen.includes(name)) {
      return { kind: 'opaque', name };
    }
    const inner = [...seen, name];
    switch (definition.kind) {
      case 'alias':
        return resolve(definition.type, inner);
      case 'record':
        return {
          kind: 'record',
          name,
          fields: definition.fields.map((f) => ({ name: f.name, type: resolve(f.type, inner) })),
        };
      case 'variant':
        return {
          kind: 'variant',
          name,
          cases: definition.cases.map((c) => ({
            name: c.name,
            type: c.type && resolve(c.type, inner),
          })),
        };
      case 'enum':
        return { kind: 'enum', name, cases: definition.cases };
      case 'flags':
        return { kind: 'flags', name, flags: definition.flags };
    }
  };
  return {
    name: fn.name,
    params: fn.params.map((p) => ({ name: p.name, type: resolve(p.type, []) })),
    result: fn.result && resolve(fn.result, []),
  };
}

/** Words (names, package paths such as `wasi:cli/environment@0.2.0`) and punctuation. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  // Comments, and feature gates (`@since(version = 0.2.0)`, `@unstable(feature = x)`), say
  // nothing about types.
  const source = text
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/@(since|unstable|deprecated)\([^)]*\)/g, '');
  const pattern =
    /->|[{}()<>,;=_*]|:(?!\s)|:|[A-Za-z0-9%][A-Za-z0-9%\-.@+]*(?::(?=[A-Za-z])[A-Za-z0-9%\-.@+/]*)?(?:\/[A-Za-z0-9%\-.@+]*)?|\s+/gy;
  let match: RegExpExecArray | null;
  let at = 0;
  while (at < source.length) {
    pattern.lastIndex = at;
    match = pattern.exec(source);
    if (!match) throw new Error(`unexpected character "${source[at]}" in the WIT text`);
    at = pattern.lastIndex;
    const token = match[0];
    if (/^\s+$/.test(token)) continue;
    tokens.push(token.startsWith('%') ? token.slice(1) : token);
  }
  return tokens;
}
