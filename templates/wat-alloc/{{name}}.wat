;; {{name}}: a wasmtube guest in WebAssembly text, over the allocator ABI.
;;
;; The guest owns its memory. A call: the host asks `wasmtube_alloc` for room and writes the
;; input there, calls the function, frees the input with `wasmtube_free`, reads the output the
;; function returned packed in an i64 (length in bits 0-31, pointer in bits 32-62, bit 63 set for
;; an error message), and frees the output.
;;
;;   wasmtube call {{name}}.wasm echo --data '{"a":1}'        # {"a":1}
;;   wasmtube call {{name}}.wasm wrap --data '{"a":1}'        # [{"a":1}]
;;   wasmtube call {{name}}.wasm wrap --data '[]'             # ERR_GUEST_ERROR: already an array
(module
  (memory (export "memory") 1)

  ;; The allocator: a bump pointer over the heap, which starts again from the bottom once every
  ;; block is freed (the host frees each input and output after a call). Static data below it.
  (global $heap_base i32 (i32.const 1024))
  (global $next (mut i32) (i32.const 1024))
  (global $live (mut i32) (i32.const 0))

  (data (i32.const 0) "already an array")

  ;; Returns room for $len bytes, growing memory as needed; 0 when memory cannot grow.
  (func $alloc (export "wasmtube_alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local $end i64)
    (local.set $ptr (global.get $next))
    ;; In 64 bits: a huge length cannot wrap around.
    (local.set $end (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $len))))
    (if (i64.gt_u (local.get $end) (i64.const 0x7fffffff)) (then (return (i32.const 0))))
    (if (i64.gt_u (local.get $end) (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
      (then
        (if (i32.eq
              (memory.grow
                (i32.sub
                  (i32.wrap_i64 (i64.shr_u (i64.add (local.get $end) (i64.const 0xffff)) (i64.const 16)))
                  (memory.size)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $next (i32.wrap_i64 (local.get $end)))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $ptr))

  ;; Frees a block: the heap starts again from the bottom once none is left.
  (func (export "wasmtube_free") (param $ptr i32) (param $len i32)
    (global.set $live (i32.sub (global.get $live) (i32.const 1)))
    (if (i32.le_s (global.get $live) (i32.const 0))
      (then
        (global.set $live (i32.const 0))
        (global.set $next (global.get $heap_base)))))

  ;; Packs an output: the pointer in bits 32-62, the length in bits 0-31.
  (func $output (param $ptr i32) (param $len i32) (result i64)
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
      (i64.extend_i32_u (local.get $len))))

  ;; An error output: an output with bit 63 set; its bytes are the (UTF-8) message. The host
  ;; frees it like any output, so it is copied into a block of its own.
  (func $error (param $message i32) (param $len i32) (result i64)
    (local $ptr i32)
    (local.set $ptr (call $alloc (local.get $len)))
    (if (i32.eqz (local.get $ptr)) (then (unreachable)))
    (memory.copy (local.get $ptr) (local.get $message) (local.get $len))
    (i64.or (call $output (local.get $ptr) (local.get $len)) (i64.const 0x8000000000000000)))

  ;; JSON in, the same JSON out, copied: the host frees the input before it reads the output.
  (func (export "echo") (param $ptr i32) (param $len i32) (result i64)
    (local $out i32)
    (local.set $out (call $alloc (local.get $len)))
    (if (i32.eqz (local.get $out)) (then (unreachable)))
    (memory.copy (local.get $out) (local.get $ptr) (local.get $len))
    (call $output (local.get $out) (local.get $len)))

  ;; JSON in, that value in a one-element array out: `1` → `[1]`. An input that is already an
  ;; array is refused with an error message (ERR_GUEST_ERROR).
  (func (export "wrap") (param $ptr i32) (param $len i32) (result i64)
    (local $out i32)
    (if (i32.and (i32.gt_u (local.get $len) (i32.const 0))
                 (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0x5b)))
      (then (return (call $error (i32.const 0) (i32.const 16)))))
    (local.set $out (call $alloc (i32.add (local.get $len) (i32.const 2))))
    (if (i32.eqz (local.get $out)) (then (unreachable)))
    (i32.store8 (local.get $out) (i32.const 0x5b)) ;; [
    (memory.copy (i32.add (local.get $out) (i32.const 1)) (local.get $ptr) (local.get $len))
    (i32.store8
      (i32.add (local.get $out) (i32.add (local.get $len) (i32.const 1)))
      (i32.const 0x5d)) ;; ]
    (call $output (local.get $out) (i32.add (local.get $len) (i32.const 2)))))
