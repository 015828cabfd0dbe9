//! {{name}}: a wasmtube guest over the allocator ABI. The guest owns its memory: the host asks
//! `wasmtube_alloc` for room for the input, and the function returns its output (or an error
//! message) packed in an i64, which the host frees with `wasmtube_free` once it has read it.
//!
//!     wasmtube call {{name}}.wasm hello --data '{"name":"Ada"}'   # {"message":"Hello, Ada!"}
//!     wasmtube call {{name}}.wasm divide --data '{"a":1,"b":4}'   # {"quotient":0.25}
//!     wasmtube call {{name}}.wasm divide --data '{"a":1,"b":0}'   # ERR_GUEST_ERROR: division by zero

use serde::{Deserialize, Serialize};
use wasmtube_guest::{alloc_exports, alloc_json_export};

// wasmtube_alloc and wasmtube_free: the host allocates inputs and frees outputs with them.
alloc_exports!();

#[derive(Deserialize)]
struct Hello {
    name: Option<String>,
}

#[derive(Serialize)]
struct Greeting {
    message: String,
}

// `{"name": "Ada"}` → `{"message": "Hello, Ada!"}`; `{}` greets the World.
alloc_json_export!(hello, |input: Hello| -> Result<Greeting, String> {
    let name = input.name.unwrap_or_else(|| "World".to_string());
    Ok(Greeting { message: format!("Hello, {}!", name) })
});

#[derive(Deserialize)]
struct Division {
    a: f64,
    b: f64,
}

#[derive(Serialize)]
struct Quotient {
    quotient: f64,
}

// `{"a": 1, "b": 4}` → `{"quotient": 0.25}`. An `Err` is returned to the host as an error
// message (ERR_GUEST_ERROR), and the guest's instance is kept.
alloc_json_export!(divide, |input: Division| -> Result<Quotient, String> {
    if input.b == 0.0 {
        return Err("division by zero".to_string());
    }
    Ok(Quotient { quotient: input.a / input.b })
});
