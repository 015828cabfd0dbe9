;; The core module of the component `test:files/file-probe` (file-probe.wit): canonical ABI by
;; hand. Return areas: get-directories at 16, open-at at 32, read at 48, write at 80; the
;; exports' results at 64. cabi_realloc is a bump allocator from 1024 (nothing is freed).
(module
  (import "wasi:filesystem/preopens@0.2.0" "get-directories" (func $get_directories (param i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.open-at"
    (func $open_at (param i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.read"
    (func $read (param i32 i64 i64 i32)))
  (import "wasi:filesystem/types@0.2.0" "[method]descriptor.write"
    (func $write (param i32 i32 i32 i64 i32)))
  (import "wasi:filesystem/types@0.2.0" "[resource-drop]descriptor" (func $drop (param i32)))
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $at i32)
    (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                            (i32.sub (i32.const 0) (local.get $align))))
    (global.set $next (i32.add (local.get $at) (local.get $size)))
    (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 1))))))
    (local.get $at))

  ;; Opens `path` in the first preopened directory with these flags: the new descriptor, or -1
  ;; with the error code stored at 65 (the export's result payload).
  (func $open (param $path i32) (param $len i32) (param $open_flags i32) (param $flags i32) (result i32)
    (local $dir i32)
    (call $get_directories (i32.const 16))
    (if (i32.eqz (i32.load (i32.const 20)))
      (then (i32.store8 (i32.const 65) (i32.const 0)) (return (i32.const -1)))) ;; access
    (local.set $dir (i32.load (i32.load (i32.const 16))))
    (call $open_at (local.get $dir) (i32.const 0) (local.get $path) (local.get $len)
      (local.get $open_flags) (local.get $flags) (i32.const 32))
    (call $drop (local.get $dir))
    (if (i32.load8_u (i32.const 32))
      (then (i32.store8 (i32.const 65) (i32.load8_u (i32.const 36))) (return (i32.const -1))))
    (i32.load (i32.const 36)))

  ;; result<list<u8>, error-code>: tag at 64, list (68, 72) or the code at 68.
  (func (export "read-file") (param $path i32) (param $len i32) (result i32)
    (local $file i32)
    (local.set $file (call $open (local.get $path) (local.get $len) (i32.const 0) (i32.const 1)))
    (i32.store8 (i32.const 64) (i32.const 1))
    (if (i32.eq (local.get $file) (i32.const -1))
      (then (i32.store8 (i32.const 68) (i32.load8_u (i32.const 65))) (return (i32.const 64))))
    (call $read (local.get $file) (i64.const 65536) (i64.const 0) (i32.const 48))
    (call $drop (local.get $file))
    (if (i32.load8_u (i32.const 48))
      (then (i32.store8 (i32.const 68) (i32.load8_u (i32.const 52))) (return (i32.const 64))))
    (i32.store8 (i32.const 64) (i32.const 0))
    (i32.store (i32.const 68) (i32.load (i32.const 52)))
    (i32.store (i32.const 72) (i32.load (i32.const 56)))
    (i32.const 64))

  ;; result<_, error-code>: tag at 64, the code at 65.
  (func (export "write-file") (param $path i32) (param $len i32) (param $data i32) (param $size i32) (result i32)
    (local $file i32)
    ;; open-flags create | truncate, descriptor-flags write
    (local.set $file (call $open (local.get $path) (local.get $len) (i32.const 9) (i32.const 2)))
    (i32.store8 (i32.const 64) (i32.const 1))
    (if (i32.eq (local.get $file) (i32.const -1)) (then (return (i32.const 64))))
    (call $write (local.get $file) (local.get $data) (local.get $size) (i64.const 0) (i32.const 80))
    (call $drop (local.get $file))
    (if (i32.load8_u (i32.const 80))
      (then (i32.store8 (i32.const 65) (i32.load8_u (i32.const 88))) (return (i32.const 64))))
    (i32.store8 (i32.const 64) (i32.const 0))
    (i32.const 64)))
