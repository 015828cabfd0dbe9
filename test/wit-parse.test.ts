// The world reader (src/component/wit-parse.ts) on WIT as wasm-tools prints it, and on the
// parts of WIT a world can hold that wasmtube does not call (resources, gates, includes).
import { describe, expect, it } from 'vitest';
import { parseWorld } from '../dist/component/wit-parse.js';
import { formatWitFunction } from '../dist/component/wit-types.js';

const functions = (wit: string) =>
  parseWorld(wit).functions.map((fn) => `${fn.name}: ${formatWitFunction(fn)}`);

describe('parseWorld', () => {
  it('reads functions, their named types resolved, and the imported interfaces', () => {
    const world = parseWorld(`package root:component;

world root {
  import example:cipher/audit-log;
  import wasi:cli/environment@0.2.0;
  use test:types/shapes.{point, size as dims};

  type id = u64;
  record person {
    name: string,
    nick-name: option<string>,
  }
  variant shape {
    circle(f64),
    empty,
  }
  enum color {
    red,
    dark-blue,
  }
  flags perms {
    read,
    exec-all,
  }

  export greet: func(p: person, id: id) -> result<list<tuple<string, u8>>, string>;
  export area: func(s: shape, c: color, f: perms) -> result;
  export move: func(p: point, d: dims) -> result<_, string>;
  export %type: func() -> option<result<u32>>;
}
`);
    expect(world.imports).toEqual(['example:cipher/audit-log', 'wasi:cli/environment@0.2.0']);
    const [greet, area, move, type] = world.functions;
    expect(greet!.params[0]!.type).toEqual({
      kind: 'record',
      name: 'person',
      fields: [
        { name: 'name', type: { kind: 'primitive', name: 'string' } },
        {
          name: 'nick-name',
          type: { kind: 'option', some: { kind: 'primitive', name: 'string' } },
        },
      ],
    });
    expect(greet!.params[1]!.type).toEqual({ kind: 'primitive', name: 'u64' }); // alias resolved
    expect(area!.params.map((p) => p.type.kind)).toEqual(['variant', 'enum', 'flags']);
    expect(area!.result).toEqual({ kind: 'result', ok: undefined, err: undefined });
    // Types used from an interface are opaque: the world text does not define them.
    expect(move!.params.map((p) => p.type)).toEqual([
      { kind: 'opaque', name: 'point' },
      { kind: 'opaque', name: 'dims' },
    ]);
    expect(type!.name).toBe('type');
    expect(functions(world.wit)).toEqual([
      'greet: func(p: person, id: u64) -> result<list<tuple<string, u8>>, string>',
      'area: func(s: shape, c: color, f: perms) -> result',
      'move: func(p: point, d: dims) -> result<_, string>',
      'type: func() -> option<result<u32>>',
    ]);
  });

  it('skips what it does not call: resources, gates, includes, comments, world imports of functions', () => {
    const wit = `package a:b;
/// docs
world w {
  @since(version = 0.2.0)
  import log: func(msg: string);
  import wasi:io/streams@0.2.0;
  resource handle {
    constructor(x: u32);
    get: func() -> u32;
  }
  resource token;
  include other;
  /* a block comment */
  @unstable(feature = fancy)
  export run: func(h: handle) -> u32;
  export later: async func() -> string;
}`;
    expect(parseWorld(wit).imports).toEqual(['log', 'wasi:io/streams@0.2.0']);
    expect(functions(wit)).toEqual(['run: func(h: handle) -> u32', 'later: func() -> string']);
  });

  it('says where it stopped on text it does not understand', () => {
    expect(() => parseWorld('package a:b;')).toThrow(/no world/);
    expect(() => parseWorld('world w { export f: func(x: list<u8>; }')).toThrow(/expected/);
  });
});
