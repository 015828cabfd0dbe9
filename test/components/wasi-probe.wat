;; The core module of the component `test:probe/wasi-probe` (wasi-probe.wit). The host writes
;; each list as (pointer, length) at the address given; the elements go to memory it allocates
;; with cabi_realloc, a bump allocator here (nothing is ever freed: a probe makes few calls).
(module
  (import "wasi:cli/environment@0.2.0" "get-environment" (func $get_environment (param i32)))
  (import "wasi:filesystem/preopens@0.2.0" "get-directories" (func $get_directories (param i32)))
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $at i32)
    ;; align up, then grow the memory when the allocation does not fit
    (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                            (i32.sub (i32.const 0) (local.get $align))))
    (global.set $next (i32.add (local.get $at) (local.get $size)))
    (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 1))))))
    (local.get $at))
  (func (export "env-count") (result i32)
    (call $get_environment (i32.const 16))
    (i32.load (i32.const 20)))
  (func (export "dir-count") (result i32)
    (call $get_directories (i32.const 16))
    (i32.load (i32.const 20))))
