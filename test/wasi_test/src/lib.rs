//! WASI test guest for wasmtube: Wasmtube-ABI functions (`fn(index, length) -> i32`, JSON in and
//! out at `index`) that exercise what WASI grants: environment variables, preopened files,
//! stdout/stderr and `proc_exit`. Built for wasm32-wasi as a reactor (a cdylib has no `_start`).

use serde::Deserialize;
use serde_json::{json, Value};
use std::io::Write;
use std::{fs, ptr, slice};

extern "C" {
    /// Synthesised by the linker: runs the static constructors, among them wasi-libc's that
    /// finds the preopened directories.
    fn __wasm_call_ctors();
}

/// The WASI reactor entry point, run once by the host before anything else. Defining it also
/// stops wasm-ld from wrapping every export in constructors-then-destructors, which re-ran the
/// preopen scan (and leaked memory) on every call.
#[no_mangle]
pub extern "C" fn _initialize() {
    // SAFETY: called once, by the host, before any other export.
    unsafe { __wasm_call_ctors() }
}

fn parse<'a, T: Deserialize<'a>>(index: *mut u8, length: usize) -> T {
    // SAFETY: the host wrote `length` bytes at `index`.
    let input = unsafe { slice::from_raw_parts(index, length) };
    serde_json::from_slice(input).expect("input is not the expected JSON")
}

fn store(index: *mut u8, value: &Value) -> i32 {
    let bytes = serde_json::to_vec(value).expect("a Value always serialises");
    // SAFETY: the host leaves room after `index` for the result.
    unsafe { ptr::copy(bytes.as_ptr(), index, bytes.len()) };
    bytes.len() as i32
}

#[derive(Deserialize)]
struct Name {
    name: String,
}

/// {"name": "X"} -> {"value": "<$X>"} or {"value": null} when the variable is not granted.
#[no_mangle]
pub extern "C" fn env_var(index: *mut u8, length: usize) -> i32 {
    let Name { name } = parse(index, length);
    store(index, &json!({ "value": std::env::var(name).ok() }))
}

#[derive(Deserialize)]
struct Path {
    path: String,
}

/// {"path": "/data/x.txt"} -> {"text": "..."} or {"error": "..."} (e.g. outside the preopens).
#[no_mangle]
pub extern "C" fn read_file(index: *mut u8, length: usize) -> i32 {
    let Path { path } = parse(index, length);
    let result = match fs::read_to_string(&path) {
        Ok(text) => json!({ "text": text }),
        Err(error) => json!({ "error": error.to_string() }),
    };
    store(index, &result)
}

#[derive(Deserialize)]
struct Say {
    out: String,
    err: String,
}

/// {"out": "...", "err": "..."}: writes each to stdout and stderr, returns {"ok": true}.
#[no_mangle]
pub extern "C" fn say(index: *mut u8, length: usize) -> i32 {
    let Say { out, err } = parse(index, length);
    print!("{out}");
    eprint!("{err}");
    std::io::stdout().flush().expect("stdout");
    store(index, &json!({ "ok": true }))
}

/// {"code": n}: ends the guest with proc_exit(n).
#[no_mangle]
pub extern "C" fn quit(index: *mut u8, length: usize) -> i32 {
    #[derive(Deserialize)]
    struct Code {
        code: i32,
    }
    let Code { code } = parse(index, length);
    std::process::exit(code)
}

/// Echo, as in the plain test guest.
#[no_mangle]
pub extern "C" fn echo(index: *mut u8, length: usize) -> i32 {
    store(index, &parse::<Value>(index, length))
}
