// Small guests generated in tests, compiled from WAT with the npm `wabt` package.
import wabtInit from 'wabt';

const wabt = await wabtInit();

/** Compiles WAT text to module bytes. */
export function wat(source: string): Buffer {
  const module = wabt.parseWat('inline.wat', source);
  try {
    module.validate();
    return Buffer.from(module.toBinary({ write_debug_names: false }).buffer);
  } finally {
    module.destroy();
  }
}

/**
 * A guest whose `which` returns `{"v":n}` (so a call shows which content served it), with
 * `echo` echoing its input. `trap: true` makes `which` trap instead; `extra` adds an export.
 */
export function versionGuest(n: number, options: { trap?: boolean; extra?: string } = {}): Buffer {
  const json = `{"v":${n}}`;
  const which = options.trap
    ? '(func (export "which") (param i32 i32) (result i32) unreachable)'
    : `(func (export "which") (param $at i32) (param i32) (result i32)
         (memory.copy (local.get $at) (i32.const 16) (i32.const ${json.length}))
         (i32.const ${json.length}))`;
  const extra = options.extra
    ? `(func (export "${options.extra}") (param i32 i32) (result i32) (local.get 1))`
    : '';
  return wat(`(module
    (memory (export "memory") 1)
    (data (i32.const 16) ${JSON.stringify(json)})
    (func (export "echo") (param i32 i32) (result i32) (local.get 1))
    (func (export "boom") (param i32 i32) (result i32) unreachable)
    ${which}
    ${extra})`);
}
