//! Test guest for wasmtube's host functions (docs/ABI.md, "Host functions"): it imports
//! functions from the module "host" and exports data functions in the allocator ABI
//! (`fn(ptr, len) -> i64`, JSON in and out; the helpers are in `abi`).

// The allocator ABI helpers are shared with alloc_test.
#[path = "../../alloc_test/src/abi.rs"]
mod abi;

use abi::{input, output, text, Output};
use serde::Deserialize;
use serde_json::{json, Value};

mod host {
    #[link(wasm_import_module = "host")]
    extern "C" {
        /// A `string` parameter: UTF-8 passed as `(ptr, len)`.
        pub fn log(ptr: *const u8, len: usize);
        pub fn add(a: i32, b: i32) -> i32;
        /// A `string` result: packed as in the allocator ABI, in memory the host allocated with
        /// our `wasmtube_alloc`; ours to free.
        pub fn upper(ptr: *const u8, len: usize) -> i64;
        pub fn now() -> f64;
    }
}

fn log(message: &[u8]) {
    // SAFETY: the host reads `message.len()` bytes at its pointer, during the call only.
    unsafe { host::log(message.as_ptr(), message.len()) }
}

fn upper(text: &str) -> Result<String, String> {
    // SAFETY: as for `log`.
    let packed = unsafe { host::upper(text.as_ptr(), text.len()) };
    let ptr = (packed >> 32 & 0x7fff_ffff) as *mut u8;
    let len = packed as u32 as usize;
    let bytes = input(ptr, len).to_vec();
    // SAFETY: the host allocated (ptr, len) with wasmtube_alloc and gave it to us; freed once.
    unsafe { abi::wasmtube_free(ptr, len) };
    let result = String::from_utf8(bytes).map_err(|e| format!("host.upper: not UTF-8: {e}"))?;
    // Bit 63: the host reported an error rather than a result.
    if packed < 0 {
        return Err(format!("host.upper failed: {result}"));
    }
    Ok(result)
}

fn from_json<'a, T: Deserialize<'a>>(ptr: *const u8, len: usize) -> Result<T, String> {
    serde_json::from_slice(input(ptr, len)).map_err(|e| format!("invalid input: {e}"))
}

fn to_json(value: Value) -> Output {
    Ok(serde_json::to_vec(&value).expect("a Value always serialises"))
}

#[derive(Deserialize)]
struct Shout {
    text: String,
}

/// {"text": s} -> {"upper": host.upper(s)}, after host.log(s).
#[no_mangle]
pub extern "C" fn shout(ptr: *const u8, len: usize) -> i64 {
    output(from_json(ptr, len).and_then(|Shout { text }| {
        log(text.as_bytes());
        to_json(json!({ "upper": upper(&text)? }))
    }))
}

#[derive(Deserialize)]
struct AddMany {
    n: u32,
}

/// {"n": n} -> {"sum": Σ host.add(i, 1) for i in 0..n, "calls": n}: n host calls in one call.
#[no_mangle]
pub extern "C" fn add_many(ptr: *const u8, len: usize) -> i64 {
    output(from_json(ptr, len).and_then(|AddMany { n }| {
        // SAFETY: `add` takes and returns plain numbers.
        let sum: i64 = (0..n)
            .map(|i| unsafe { host::add(i as i32, 1) } as i64)
            .sum();
        to_json(json!({ "sum": sum, "calls": n }))
    }))
}

/// {"now": host.now()}; the input is ignored.
#[no_mangle]
pub extern "C" fn clock(_ptr: *const u8, _len: usize) -> i64 {
    // SAFETY: `now` takes nothing and returns a number.
    output(to_json(json!({ "now": unsafe { host::now() } })))
}

/// Logs the input text as it is (for a JSON string, with its quotes); returns {"logged": true}.
#[no_mangle]
pub extern "C" fn log_only(ptr: *const u8, len: usize) -> i64 {
    output(text(ptr, len).and_then(|text| {
        log(text.as_bytes());
        to_json(json!({ "logged": true }))
    }))
}
