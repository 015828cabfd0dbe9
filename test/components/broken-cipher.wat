;; A broken build of the cipher world (examples/components/caesar/wit/world.wit): encrypt and
;; decrypt trap. A reload to it is rolled back by failure rate.
(module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "encrypt") (param i32 i32) (result i32) unreachable)
  (func (export "decrypt") (param i32 i32) (result i32) unreachable))
