//! Test guest for wasmtube's allocator ABI (docs/ABI.md; the helpers are in `abi`).
//!
//! Data functions: `fn(ptr, len) -> i64` and image functions `fn(ptr, len, width, height) -> i64`
//! (raw RGB, `width * height * 3` bytes). Bad input is reported as an error output, not a trap.
//! Typed-call functions have plain numeric signatures, taking strings and bytes as `(ptr, len)`.
//! `legacy_echo` uses the old Wasmtube ABI, to show both can live in one module.
//!
//! The module has no imports. Under `panic = "abort"` every panic is a wasm `unreachable` trap.

mod abi;

use abi::{input, output, text, Output};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Per-instance state, advanced by both `count` and `nothing`.
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn to_json(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a Value always serialises")
}

/// Writes back the JSON value it was given (re-serialised: compact, keys sorted).
#[no_mangle]
pub extern "C" fn echo(ptr: *const u8, len: usize) -> i64 {
    let value = serde_json::from_slice(input(ptr, len)).map_err(|e| format!("invalid JSON: {e}"));
    output(value.map(|value: Value| to_json(&value)))
}

/// Always an error output, quoting the input.
#[no_mangle]
pub extern "C" fn fail(ptr: *const u8, len: usize) -> i64 {
    let input = String::from_utf8_lossy(input(ptr, len));
    output(Err(format!("fail was asked to fail: {input}")))
}

/// MessagePack in and out; a map gains `"seen_by": "rust"`. Decoding goes through a JSON value,
/// so binary, extension types and non-string map keys are reported as errors.
#[no_mangle]
pub extern "C" fn msgpack_echo(ptr: *const u8, len: usize) -> i64 {
    output(msgpack_seen_by(input(ptr, len)))
}

fn msgpack_seen_by(input: &[u8]) -> Output {
    let mut value: Value =
        rmp_serde::from_slice(input).map_err(|e| format!("invalid MessagePack: {e}"))?;
    if let Value::Object(map) = &mut value {
        map.insert("seen_by".into(), "rust".into());
    }
    rmp_serde::encode::to_vec_named(&value).map_err(|e| e.to_string())
}

/// Returns {"count": n}: 1 on the first call after instantiation (if `nothing` was not called).
#[no_mangle]
pub extern "C" fn count(_ptr: *const u8, _len: usize) -> i64 {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    output(Ok(to_json(&json!({ "count": n }))))
}

/// The RGB pixels of an image call, unless `len != width * height * 3`.
fn pixels<'a>(ptr: *const u8, len: usize, width: u32, height: u32) -> Result<&'a [u8], String> {
    // u64, so that a huge width * height cannot wrap around and pass the check.
    if len as u64 != width as u64 * height as u64 * 3 {
        return Err(format!("{len} bytes is not a {width}x{height} RGB image"));
    }
    Ok(input(ptr, len))
}

/// A new image where every pixel is its luma (BT.601 weights in 8-bit fixed point).
#[no_mangle]
pub extern "C" fn grayscale(ptr: *const u8, len: usize, width: u32, height: u32) -> i64 {
    output(pixels(ptr, len, width, height).map(|rgb| {
        rgb.chunks_exact(3)
            .flat_map(|px| {
                let y = (77 * px[0] as u32 + 150 * px[1] as u32 + 29 * px[2] as u32) >> 8;
                [y as u8; 3]
            })
            .collect()
    }))
}

#[no_mangle]
pub extern "C" fn image_size(ptr: *const u8, len: usize, width: u32, height: u32) -> i64 {
    let size = pixels(ptr, len, width, height).map(|_| json!({ "width": width, "height": height }));
    output(size.map(|size| to_json(&size)))
}

/// The old Wasmtube ABI, `(index, length) -> i32`: the result is written at `index` and its
/// length returned. An echo's result is its input, already there, so there is nothing to write.
#[no_mangle]
pub extern "C" fn legacy_echo(_index: *mut u8, length: i32) -> i32 {
    length
}

// Typed calls.

#[no_mangle]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

#[no_mangle]
pub extern "C" fn add64(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

#[no_mangle]
pub extern "C" fn mix(a: f64, b: f32) -> f64 {
    a * 2.0 + b as f64
}

/// A `bool` result: 1 or 0.
#[no_mangle]
pub extern "C" fn is_even(n: i32) -> i32 {
    (n % 2 == 0) as i32
}

/// No parameters, no result; the call is visible through `count`.
#[no_mangle]
pub extern "C" fn nothing() {
    COUNTER.fetch_add(1, Ordering::Relaxed);
}

/// A string in, a string out: "Hello, <name>!".
#[no_mangle]
pub extern "C" fn greet(ptr: *const u8, len: usize) -> i64 {
    output(text(ptr, len).map(|name| format!("Hello, {name}!").into_bytes()))
}

#[no_mangle]
pub extern "C" fn reverse_bytes(ptr: *const u8, len: usize) -> i64 {
    output(Ok(input(ptr, len).iter().rev().copied().collect()))
}

/// The byte sum, wrapping at 2^32 (reinterpreted as i32).
#[no_mangle]
pub extern "C" fn sum_bytes(ptr: *const u8, len: usize) -> i32 {
    let sum = input(ptr, len)
        .iter()
        .fold(0u32, |sum, &b| sum.wrapping_add(b as u32));
    sum as i32
}

/// Two strings in, "<a> <b>" out.
#[no_mangle]
pub extern "C" fn concat(ptr: *const u8, len: usize, ptr2: *const u8, len2: usize) -> i64 {
    let joined = text(ptr, len).and_then(|a| Ok(format!("{a} {}", text(ptr2, len2)?)));
    output(joined.map(String::into_bytes))
}

// Adversarial guests: each misbehaves in one way a host must survive.

/// Returns a (non-error) output whose last 8 bytes lie past the end of memory.
#[no_mangle]
pub extern "C" fn bad_pointer(_ptr: *const u8, _len: usize) -> i64 {
    let end = core::arch::wasm32::memory_size(0) as i64 * 65536;
    (end - 8) << 32 | 16
}

/// Traps (`unreachable`).
#[no_mangle]
pub extern "C" fn trap(_ptr: *const u8, _len: usize) -> i64 {
    panic!("trap requested");
}
