//! Example guest for wasmtube: the smallest useful JSON functions.
//!
//! Wasmtube ABI: `fn(index, length) -> i32`. The host has written `length`
//! bytes of UTF-8 JSON at `index`; the function writes its JSON result at
//! `index` and returns the result's length. A panic is a trap (`panic = "abort"`),
//! which the host reports as `ERR_GUEST_TRAP`.

use serde::Deserialize;
use serde_json::{json, Value};
use std::{ptr, slice};

fn input<'a>(index: *mut u8, length: usize) -> &'a [u8] {
    // SAFETY: the host guarantees `length` bytes at `index` are in memory.
    unsafe { slice::from_raw_parts(index, length) }
}

fn store_json(index: *mut u8, value: &Value) -> i32 {
    let bytes = serde_json::to_vec(value).expect("a Value always serialises");
    // SAFETY: a memmove; the host leaves room after `index` for the result.
    unsafe { ptr::copy(bytes.as_ptr(), index, bytes.len()) };
    bytes.len() as i32
}

/// Writes back the JSON value it was given: `{"a": 1}` → `{"a": 1}`.
#[no_mangle]
pub extern "C" fn echo(index: *mut u8, length: usize) -> i32 {
    let value: Value = serde_json::from_slice(input(index, length)).expect("input is not JSON");
    store_json(index, &value)
}

#[derive(Deserialize)]
struct Hello {
    name: Option<String>,
}

/// `{"name": "Ada"}` → `{"message": "Hello, Ada!"}`; `null` or `{}` greets the World.
#[no_mangle]
pub extern "C" fn hello(index: *mut u8, length: usize) -> i32 {
    let hello: Option<Hello> =
        serde_json::from_slice(input(index, length)).expect("input is not {\"name\": ...}");
    let name = hello.and_then(|h| h.name).unwrap_or_else(|| "World".into());
    store_json(index, &json!({ "message": format!("Hello, {}!", name) }))
}
