// The compile-time rewrite of isolation: 'call' (src/bridge/virtual-memory-size.ts and
// export-globals.ts): the instruction reader gets through every kind of immediate, the rewritten
// module computes what the original does, and memory.size/memory.grow keep their meaning.
import wabtInit from 'wabt';
import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { compileModule } from '../dist/bridge/compiled-module.js';

const wabt = await wabtInit();

function wat(source: string): Uint8Array {
  const module = wabt.parseWat('test.wat', source, { simd: true, bulk_memory: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

// One of each immediate shape: block types, br_table, call_indirect, typed select, i64/f32/f64
// constants, memargs, bulk memory, SIMD (v128.const, shuffle, lanes, lane loads), plus
// memory.size and memory.grow, all folded into one number.
const KITCHEN_SINK = wat(`
(module
  (type $binary (func (param i32 i32) (result i32)))
  (memory (export "memory") 1 4)
  (table 2 funcref)
  (elem (i32.const 0) $add $sub)
  (global $acc (mut i64) (i64.const -9000000000))
  (data (i32.const 64) "\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10")
  (func $add (type $binary) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $binary) (i32.sub (local.get 0) (local.get 1)))
  (func $pick (param $i i32) (result i32)
    (block $c (block $b (block $a
      (br_table $a $b $c (local.get $i)))
      (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30))
  (func (export "sink") (param $x i32) (result i32)
    (local $v v128) (local $r i32)
    (local.set $r (call_indirect (type $binary) (local.get $x) (i32.const 3) (i32.const 1)))
    (local.set $r (i32.add (local.get $r) (call $pick (i32.and (local.get $x) (i32.const 3)))))
    (local.set $r (select (result i32) (local.get $r) (i32.const 0) (i32.const 1)))
    (global.set $acc (i64.add (global.get $acc) (i64.const 123456789012)))
    (local.set $r (i32.add (local.get $r) (i32.wrap_i64 (global.get $acc))))
    (local.set $r (i32.add (local.get $r) (i32.trunc_f32_s (f32.const 2.5))))
    (local.set $r (i32.add (local.get $r) (i32.trunc_f64_s (f64.const 7.25))))
    (memory.fill (i32.const 1024) (i32.const 7) (i32.const 16))
    (memory.copy (i32.const 2048) (i32.const 64) (i32.const 16))
    (local.set $v (v128.load offset=0 align=1 (i32.const 2048)))
    (local.set $v (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 (local.get $v) (local.get $v)))
    (local.set $v (i32x4.replace_lane 1 (local.get $v) (local.get $x)))
    (local.set $v (v128.load8_lane 3 (i32.const 1024) (local.get $v)))
    (local.set $v (i32x4.add (local.get $v) (v128.const i32x4 1 2 3 4)))
    (local.set $r (i32.add (local.get $r) (i32x4.extract_lane 1 (local.get $v))))
    (local.set $r (i32.add (local.get $r) (i8x16.extract_lane_u 0 (local.get $v))))
    (if (i32.eqz (local.get $x)) (then (drop (memory.grow (i32.const 1)))))
    (i32.add (local.get $r) (i32.mul (memory.size) (i32.const 1000))))
  (func (export "grow") (param $pages i32) (result i32) (memory.grow (local.get $pages)))
  (func (export "size") (result i32) (memory.size)))
`);

describe("the 'call' rewrite", () => {
  it('reads every kind of immediate: the page count and globals are rewritten', () => {
    const compiled = compileModule(KITCHEN_SINK, { isolation: 'call' });
    expect(compiled.pagesGlobal).toMatch(/^__wasmtube_global_\d+$/);
    expect(compiled.snapshotGlobals).toContain(compiled.pagesGlobal);
    expect(compiled.snapshotGlobals.length).toBe(2); // $acc and the page count
  });

  it('computes what the original computes', async () => {
    const original = Wasmtube.fromBinary(KITCHEN_SINK);
    const rewritten = Wasmtube.fromBinary(KITCHEN_SINK, { isolation: 'call' });
    for (const x of [5, 1, 2, 3]) {
      // 'instance' keeps $acc between calls; compare with a fresh original each time.
      const fresh = Wasmtube.fromBinary(KITCHEN_SINK);
      expect(await rewritten.call('sink', [x])).toBe(await fresh.call('sink', [x]));
    }
    expect(await original.call('sink', [5])).not.toBe(await original.call('sink', [5])); // state
  });

  it('memory.size and memory.grow keep their meaning, the maximum included', async () => {
    const bridge = Wasmtube.fromBinary(KITCHEN_SINK, { isolation: 'call' });
    expect(await bridge.call('size')).toBe(1);
    expect(await bridge.call('grow', [2])).toBe(1); // the old size; restored after the call
    expect(await bridge.call('size')).toBe(1);
    expect(await bridge.call('grow', [3])).toBe(1);
    expect(await bridge.call('grow', [4])).toBe(-1); // past the maximum of 4 pages
    expect(await bridge.call('grow', [0])).toBe(1);
  });

  it('the guest grows past the host region, never into it', () => {
    const bridge = Wasmtube.fromBinary(KITCHEN_SINK, { isolation: 'call', resultHeadroomBytes: 0 });
    // The payload reserves a host region above the ready page; the guest's grow comes after it.
    bridge.writeBytes(Buffer.from('payload'));
    const regionPages = bridge.memoryBytes / 65536;
    expect(regionPages).toBe(2);
    return bridge.call('grow', [1]).then((old) => expect(old).toBe(regionPages));
  });
});
