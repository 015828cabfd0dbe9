//! Test guest for wasmtube written with the `wasmtube-guest` crate (guest-kit/rust): each of its
//! macros once or twice, so tests see JSON results, errors in both ABIs and an in-place image.
//! (Comments on macro calls are `//`: rustdoc documents no items a macro makes.)

use serde::{Deserialize, Serialize};
use wasmtube_guest::{alloc_exports, alloc_json_export, image_export, json_export, RgbImage};

#[derive(Deserialize)]
struct Hello {
    name: Option<String>,
}

#[derive(Serialize)]
struct Greeting {
    message: String,
}

// `{"name": "Ada"}` → `{"message": "Hello, Ada!"}`; `null` or `{}` greets the World.
json_export!(hello, |input: Option<Hello>| -> Result<Greeting, String> {
    let name = input.and_then(|h| h.name).unwrap_or_else(|| "World".into());
    Ok(Greeting {
        message: format!("Hello, {name}!"),
    })
});

#[derive(Deserialize)]
struct Division {
    a: i64,
    b: i64,
}

fn divide(input: Division) -> Result<i64, String> {
    input
        .a
        .checked_div(input.b)
        .ok_or_else(|| format!("cannot divide {} by {}", input.a, input.b))
}

// `{"a": 7, "b": 2}` → `3`; dividing by zero is `{"error": "cannot divide 7 by 0"}`.
json_export!(divide_json, |input: Division| -> Result<i64, String> {
    divide(input)
});

alloc_exports!();

// As `divide_json` over the allocator ABI: dividing by zero is `ERR_GUEST_ERROR`.
alloc_json_export!(divide_alloc, |input: Division| -> Result<i64, String> {
    divide(input)
});

// In place: every byte becomes 255 - byte.
image_export!(invert, |image: &mut RgbImage| {
    image.pixels.iter_mut().for_each(|b| *b = !*b);
});
