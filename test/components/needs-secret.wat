;; The core module of the component `test:faults/needs-secret` (faults.wit): it imports an
;; interface the tests never grant.
(module
  (import "test:faults/secret" "get" (func $get (result i32)))
  (memory (export "memory") 1)
  (func (export "peek") (result i32) (call $get)))
