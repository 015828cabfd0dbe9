//! {{name}}: a wasmtube guest over the Wasmtube ABI. The host writes the input at an index in
//! memory, calls the function, and reads the result written back at the same index.
//!
//!     wasmtube call {{name}}.wasm hello --data '{"name":"Ada"}'     # {"message":"Hello, Ada!"}
//!     wasmtube call {{name}}.wasm sum --data '{"numbers":[1,2,3.5]}' # {"sum":6.5,"count":3}
//!     wasmtube call {{name}}.wasm invert --image in.png --out out.png

use serde::{Deserialize, Serialize};
use wasmtube_guest::{image_export, json_export, RgbImage};

#[derive(Deserialize)]
struct Hello {
    name: Option<String>,
}

#[derive(Serialize)]
struct Greeting {
    message: String,
}

// `{"name": "Ada"}` → `{"message": "Hello, Ada!"}`; `{}` greets the World.
json_export!(hello, |input: Hello| -> Result<Greeting, String> {
    let name = input.name.unwrap_or_else(|| "World".to_string());
    Ok(Greeting { message: format!("Hello, {}!", name) })
});

#[derive(Deserialize)]
struct Numbers {
    numbers: Vec<f64>,
}

#[derive(Serialize)]
struct Total {
    sum: f64,
    count: usize,
}

// `{"numbers": [1, 2, 3.5]}` → `{"sum": 6.5, "count": 3}`. The Wasmtube ABI has no error
// channel: an `Err` (or input that does not decode) answers `{"error": "..."}`.
json_export!(sum, |input: Numbers| -> Result<Total, String> {
    if input.numbers.iter().any(|n| !n.is_finite()) {
        return Err("numbers must be finite".to_string());
    }
    Ok(Total { sum: input.numbers.iter().sum(), count: input.numbers.len() })
});

// An image function: the host decodes PNG, JPEG or WebP to raw RGB, and encodes the result
// again on request (`--out x.png`, or `Accept: image/png` over HTTP).
image_export!(invert, |image: &mut RgbImage| {
    for byte in image.pixels.iter_mut() {
        *byte = 255 - *byte;
    }
});
