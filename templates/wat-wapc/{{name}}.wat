;; {{name}}: a waPC guest in WebAssembly text (https://wapc.io), which wasmtube calls through
;; its waPC host. The function name of a call is the waPC operation; the payload is the input's
;; bytes (JSON for a `{ data }` call).
;;
;; A call: the host calls `__guest_call(op_len, payload_len)`; the guest asks the host to copy
;; the operation name and payload into its memory (`__guest_request`), then answers with
;; `__guest_response` and returns 1, or with `__guest_error` and returns 0 (ERR_GUEST_ERROR).
;;
;;   wasmtube call {{name}}.wasm echo --data '{"a":1}'        # {"a":1}
;;   wasmtube call {{name}}.wasm wrap --data '{"a":1}'        # [{"a":1}]
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (memory (export "memory") 1)

  ;; Operation names, and the prefix of the error for an unknown one (19 bytes, ending at 1024).
  (data (i32.const 256) "echo")
  (data (i32.const 272) "wrap")
  (data (i32.const 1005) "unknown operation: ")

  ;; The operation is requested to 1024 (just after the error prefix), the payload after it.
  (global $op i32 (i32.const 1024))

  ;; True when the operation ($op_len bytes at $op) equals the $len bytes at $name.
  (func $op_is (param $op_len i32) (param $name i32) (param $len i32) (result i32)
    (local $i i32)
    (if (i32.ne (local.get $op_len) (local.get $len)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.ne (i32.load8_u (i32.add (global.get $op) (local.get $i)))
                    (i32.load8_u (i32.add (local.get $name) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; Grows memory to at least $end bytes; traps when it cannot.
  (func $reserve (param $end i64)
    (local $pages i32)
    (if (i64.gt_u (local.get $end) (i64.const 0xffff0000)) (then (unreachable)))
    (local.set $pages
      (i32.wrap_i64 (i64.shr_u (i64.add (local.get $end) (i64.const 0xffff)) (i64.const 16))))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (unreachable))))))

  (func (export "__guest_call") (param $op_len i32) (param $payload_len i32) (result i32)
    (local $payload i32)
    (local $out i32)
    (local.set $payload (i32.add (global.get $op) (local.get $op_len)))
    ;; Room for the request, and for a response as long as the payload plus two bytes after it.
    (call $reserve
      (i64.add
        (i64.extend_i32_u (local.get $payload))
        (i64.add (i64.mul (i64.extend_i32_u (local.get $payload_len)) (i64.const 2)) (i64.const 2))))
    (call $guest_request (global.get $op) (local.get $payload))

    ;; echo: the payload, as it is.
    (if (call $op_is (local.get $op_len) (i32.const 256) (i32.const 4))
      (then
        (call $guest_response (local.get $payload) (local.get $payload_len))
        (return (i32.const 1))))

    ;; wrap: the payload (a JSON value) in a one-element array.
    (if (call $op_is (local.get $op_len) (i32.const 272) (i32.const 4))
      (then
        (local.set $out (i32.add (local.get $payload) (local.get $payload_len)))
        (i32.store8 (local.get $out) (i32.const 0x5b)) ;; [
        (memory.copy (i32.add (local.get $out) (i32.const 1)) (local.get $payload) (local.get $payload_len))
        (i32.store8
          (i32.add (local.get $out) (i32.add (local.get $payload_len) (i32.const 1)))
          (i32.const 0x5d)) ;; ]
        (call $guest_response (local.get $out) (i32.add (local.get $payload_len) (i32.const 2)))
        (return (i32.const 1))))

    ;; Anything else: "unknown operation: <op>" (the prefix sits just before the operation).
    (call $guest_error (i32.const 1005) (i32.add (i32.const 19) (local.get $op_len)))
    (i32.const 0)))
