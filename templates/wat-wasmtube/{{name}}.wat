;; {{name}}: a wasmtube guest in WebAssembly text, over the Wasmtube ABI.
;;
;; The host writes the input (JSON for a `{ data }` call, raw RGB for an image) at `index`,
;; calls the function, and reads the result the function wrote back at the same `index`, whose
;; length the function returns. The input lives in a region the host owns at the top of memory,
;; with room after it for a longer result (the `resultHeadroomBytes` setting).
;;
;;   wasmtube call {{name}}.wasm echo --data '{"a":1}'        # {"a":1}
;;   wasmtube call {{name}}.wasm wrap --data '{"a":1}'        # [{"a":1}]
;;   wasmtube call {{name}}.wasm invert --image in.png --out out.png
(module
  ;; No maximum: the host grows memory for its region.
  (memory (export "memory") 1)

  ;; JSON in, the same JSON out: the input is already the result.
  (func (export "echo") (param $index i32) (param $length i32) (result i32)
    (local.get $length))

  ;; JSON in, that value in a one-element array out: `1` → `[1]`.
  (func (export "wrap") (param $index i32) (param $length i32) (result i32)
    ;; Move the input one byte up (memory.copy handles the overlap), then add the brackets.
    (memory.copy
      (i32.add (local.get $index) (i32.const 1))
      (local.get $index)
      (local.get $length))
    (i32.store8 (local.get $index) (i32.const 0x5b)) ;; [
    (i32.store8
      (i32.add (local.get $index) (i32.add (local.get $length) (i32.const 1)))
      (i32.const 0x5d)) ;; ]
    (i32.add (local.get $length) (i32.const 2)))

  ;; An image function: width * height RGB pixels in, the same size out, each channel inverted.
  (func (export "invert")
    (param $index i32) (param $length i32) (param $width i32) (param $height i32) (result i32)
    (local $at i32)
    (local $end i32)
    ;; Trap unless length == width * height * 3 (in 64 bits, so it cannot wrap around).
    (if (i64.ne
          (i64.extend_i32_u (local.get $length))
          (i64.mul (i64.mul (i64.extend_i32_u (local.get $width)) (i64.extend_i32_u (local.get $height)))
                   (i64.const 3)))
      (then (unreachable)))
    (local.set $at (local.get $index))
    (local.set $end (i32.add (local.get $index) (local.get $length)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (i32.store8 (local.get $at) (i32.xor (i32.load8_u (local.get $at)) (i32.const 0xff)))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $next)))
    (local.get $length)))
