//! Example WASI guest for wasmtube: a Caesar cipher, after the component-model
//! runner's `encrypt`/`decrypt` service, over the Wasmtube ABI.
//!
//! Built for `wasm32-wasi` (a reactor: the host calls `_initialize`, then the
//! exports). The shift is read from the WASI environment variable `SHIFT`
//! (default 3), which the host grants, e.g. in the sidecar `cipher.json`:
//! `{ "wasi": { "env": { "SHIFT": "5" } } }`.
//!
//! `encrypt` and `decrypt` take `{"text": "..."}` and return `{"text": "...", "shift": n}`.
//! ASCII letters are shifted, keeping their case; everything else is kept as is.
//! A `SHIFT` that is not an integer makes every call trap (`ERR_GUEST_TRAP`).
//!
//! Like the runner's guest calls its host's `audit-log` capability, each call
//! writes an audit line (never the text itself) through the host function
//! `wasmtube.log(message: string)`, which the host must grant (the sidecar's
//! `"hostFunctions": ["wasmtube.log"]`); without it the module does not load.

use serde::Deserialize;
use serde_json::{json, Value};
use std::{ptr, slice};

const DEFAULT_SHIFT: i64 = 3;

mod host {
    #[link(wasm_import_module = "wasmtube")]
    extern "C" {
        /// A UTF-8 message at `ptr`, `len` bytes long, for the host's log.
        pub fn log(ptr: *const u8, len: usize);
    }
}

/// Writes an audit line to the host's log.
fn audit(message: &str) {
    // SAFETY: the host reads `len` bytes at `ptr` during the call and keeps no reference.
    unsafe { host::log(message.as_ptr(), message.len()) };
}

#[derive(Deserialize)]
struct Message {
    text: String,
}

fn message(index: *mut u8, length: usize) -> Message {
    // SAFETY: the host guarantees `length` bytes at `index` are in memory.
    let bytes = unsafe { slice::from_raw_parts(index, length) };
    serde_json::from_slice(bytes).expect("input is not {\"text\": \"...\"}")
}

fn store_json(index: *mut u8, value: &Value) -> i32 {
    let bytes = serde_json::to_vec(value).expect("a Value always serialises");
    // SAFETY: a memmove; the host leaves room after `index` for the result.
    unsafe { ptr::copy(bytes.as_ptr(), index, bytes.len()) };
    bytes.len() as i32
}

/// The shift from the environment, reduced to 0..26.
fn shift() -> u8 {
    let shift = match std::env::var("SHIFT") {
        Ok(text) => text.trim().parse::<i64>().expect("SHIFT is not an integer"),
        Err(_) => DEFAULT_SHIFT,
    };
    shift.rem_euclid(26) as u8
}

fn rotate(text: &str, by: u8) -> String {
    text.chars()
        .map(|c| {
            let base = match c {
                'a'..='z' => b'a',
                'A'..='Z' => b'A',
                _ => return c,
            };
            ((c as u8 - base + by) % 26 + base) as char
        })
        .collect()
}

/// `{"text": "hello world"}` → `{"text": "khoor zruog", "shift": 3}` with the default shift.
#[no_mangle]
pub extern "C" fn encrypt(index: *mut u8, length: usize) -> i32 {
    let by = shift();
    let text = rotate(&message(index, length).text, by);
    audit(&format!("encrypt: {} characters, shift {}", text.chars().count(), by));
    store_json(index, &json!({ "text": text, "shift": by }))
}

/// The inverse of `encrypt` under the same shift.
#[no_mangle]
pub extern "C" fn decrypt(index: *mut u8, length: usize) -> i32 {
    let by = shift();
    let text = rotate(&message(index, length).text, (26 - by) % 26);
    audit(&format!("decrypt: {} characters, shift {}", text.chars().count(), by));
    store_json(index, &json!({ "text": text, "shift": by }))
}
