;; Extism-ABI echo plugin for the Extism JS SDK (@extism/extism 1.0.x): copies its input to its
;; output through the host's memory functions, 8 bytes per call, then the odd bytes one at a time.
;; Import names and signatures as the SDK's CallContext provides them (src/call-context.ts):
;; addresses and lengths are i64; bytes are i32.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "echo") (result i32)
    (local $len i64) (local $out i64) (local $i i64) (local $words i64)
    (local.set $len (call $input_length))
    (local.set $out (call $alloc (local.get $len)))
    (local.set $words (i64.and (local.get $len) (i64.const -8)))
    (block $words_done
      (loop $copy_words
        (br_if $words_done (i64.ge_u (local.get $i) (local.get $words)))
        (call $store_u64
          (i64.add (local.get $out) (local.get $i))
          (call $input_load_u64 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 8)))
        (br $copy_words)))
    (block $bytes_done
      (loop $copy_bytes
        (br_if $bytes_done (i64.ge_u (local.get $i) (local.get $len)))
        (call $store_u8
          (i64.add (local.get $out) (local.get $i))
          (call $input_load_u8 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $copy_bytes)))
    (call $output_set (local.get $out) (local.get $len))
    (i32.const 0)))
