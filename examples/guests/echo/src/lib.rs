//! Example guest for wasmtube: the smallest useful JSON functions, written with the
//! `wasmtube-guest` crate (guest-kit/rust).
//!
//! Wasmtube ABI: `fn(index, length) -> i32`. The host has written `length` bytes of UTF-8 JSON
//! at `index`; the function writes its JSON result at `index` and returns the result's length.
//! Input that is not the JSON a function takes is answered with `{"error": "..."}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasmtube_guest::json_export;

// Writes back the JSON value it was given: `{"a": 1}` → `{"a": 1}`.
json_export!(echo, |value: Value| -> Result<Value, String> { Ok(value) });

#[derive(Deserialize)]
struct Hello {
    name: Option<String>,
}

#[derive(Serialize)]
struct Greeting {
    message: String,
}

// `{"name": "Ada"}` → `{"message": "Hello, Ada!"}`; `null` or `{}` greets the World.
json_export!(hello, |hello: Option<Hello>| -> Result<Greeting, String> {
    let name = hello.and_then(|h| h.name).unwrap_or_else(|| "World".into());
    Ok(Greeting {
        message: format!("Hello, {}!", name),
    })
});
