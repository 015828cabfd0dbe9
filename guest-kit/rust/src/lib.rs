//! Write wasmtube guests in Rust with three macros (see README.md and wasmtube's docs/ABI.md).
//!
//! - [`json_export!`]: a JSON function over the Wasmtube ABI, `name(index, length) -> i32`.
//!   An `Err(message)` becomes the result `{"error": message}`: that ABI has no error channel.
//! - [`alloc_json_export!`]: a JSON function over the allocator ABI, `name(ptr, len) -> i64`.
//!   An `Err(message)` is an error output, which the host reports as `ERR_GUEST_ERROR`.
//!   Needs [`alloc_exports!`] once in the crate.
//! - [`image_export!`]: an in-place RGB image function over the Wasmtube ABI,
//!   `name(index, length, width, height) -> i32`.
//!
//! Input that is not the JSON the handler takes counts as `Err`. A panic in a handler is a wasm
//! trap (build with `panic = "abort"`), which the host reports as `ERR_GUEST_TRAP`.
//!
//! This crate's own code has no panics, so no path of this folder ends up in a guest's `.wasm`
//! (cargo passes a path dependency's absolute path to rustc): builds stay byte-reproducible.

use serde::{de::DeserializeOwned, Serialize};

/// The image an [`image_export!`] handler edits in place: `width * height` pixels, 3 bytes each
/// (red, green, blue), row by row from the top left.
pub struct RgbImage<'a> {
    pub width: u32,
    pub height: u32,
    pub pixels: &'a mut [u8],
}

/// Exports `name(index: i32, length: i32) -> i32` over the Wasmtube ABI. The handler takes the
/// input parsed from JSON (any `serde::de::DeserializeOwned` type) and returns
/// `Result<impl Serialize, String>`; the result is written as JSON at `index`. An `Err(message)`,
/// or input that does not parse, writes `{"error": message}` instead: callers check for `error`.
/// Results longer than their input need the host's `resultHeadroomBytes`.
///
/// ```ignore
/// wasmtube_guest::json_export!(add, |input: (i64, i64)| -> Result<i64, String> {
///     input.0.checked_add(input.1).ok_or_else(|| "overflow".to_string())
/// });
/// ```
#[macro_export]
macro_rules! json_export {
    ($name:ident, $handler:expr $(,)?) => {
        #[no_mangle]
        pub extern "C" fn $name(index: *mut u8, length: usize) -> i32 {
            $crate::__private::json_call(index, length, $handler)
        }
    };
}

/// Exports `name(ptr: i32, len: i32) -> i64` over the allocator ABI, with the same handlers as
/// [`json_export!`]. An `Err(message)`, or input that does not parse, is an error output: the
/// host rejects the call with `ERR_GUEST_ERROR` and `details.guestMessage` = `message`, and keeps
/// the instance. Needs [`alloc_exports!`] once in the crate.
#[macro_export]
macro_rules! alloc_json_export {
    ($name:ident, $handler:expr $(,)?) => {
        #[no_mangle]
        pub extern "C" fn $name(ptr: *const u8, len: usize) -> i64 {
            $crate::__private::alloc_json_call(ptr, len, $handler)
        }
    };
}

/// Exports `wasmtube_alloc` and `wasmtube_free`, which make the allocator ABI available (and are
/// what the host uses for typed calls and host functions that pass strings). Use once per crate.
#[macro_export]
macro_rules! alloc_exports {
    () => {
        #[no_mangle]
        pub extern "C" fn wasmtube_alloc(len: usize) -> *mut u8 {
            $crate::__private::alloc(len)
        }

        /// # Safety
        /// `ptr` and `len` must be those of a `wasmtube_alloc(len)` or an output not yet freed.
        #[no_mangle]
        pub unsafe extern "C" fn wasmtube_free(ptr: *mut u8, len: usize) {
            $crate::__private::free(ptr, len)
        }
    };
}

/// Exports `name(index: i32, length: i32, width: i32, height: i32) -> i32`, a Wasmtube ABI image
/// function: the handler gets the `&mut RgbImage` and edits its pixels in place; the function
/// returns `width * height * 3`. Call it with `{ image }` and `returns: 'rgb'` (or an encoding).
/// A `length` other than `width * height * 3` traps (the host never sends one).
///
/// ```ignore
/// wasmtube_guest::image_export!(invert, |image: &mut wasmtube_guest::RgbImage| {
///     image.pixels.iter_mut().for_each(|b| *b = !*b);
/// });
/// ```
#[macro_export]
macro_rules! image_export {
    ($name:ident, $handler:expr $(,)?) => {
        #[no_mangle]
        pub extern "C" fn $name(index: *mut u8, length: usize, width: u32, height: u32) -> i32 {
            $crate::__private::image_call(index, length, width, height, $handler)
        }
    };
}

/// What the macros expand to; not a stable API.
#[doc(hidden)]
pub mod __private {
    use super::*;
    use std::alloc::{alloc as allocate, dealloc, Layout};
    use std::ptr::{self, NonNull};
    use std::slice;

    pub fn json_call<I, O, F>(index: *mut u8, length: usize, handler: F) -> i32
    where
        I: DeserializeOwned,
        O: Serialize,
        F: FnOnce(I) -> Result<O, String>,
    {
        let bytes = run_json(input(index, length), handler).unwrap_or_else(|m| error_json(&m));
        // SAFETY: a memmove, so overlapping the input is fine; the host leaves room after
        // `index` for results longer than the input.
        unsafe { ptr::copy(bytes.as_ptr(), index, bytes.len()) };
        bytes.len() as i32
    }

    pub fn alloc_json_call<I, O, F>(ptr: *const u8, len: usize, handler: F) -> i64
    where
        I: DeserializeOwned,
        O: Serialize,
        F: FnOnce(I) -> Result<O, String>,
    {
        match run_json(input(ptr, len), handler) {
            Ok(bytes) => pack(bytes, false),
            Err(message) => pack(message.into_bytes(), true),
        }
    }

    pub fn image_call<F>(index: *mut u8, length: usize, width: u32, height: u32, handler: F) -> i32
    where
        F: FnOnce(&mut RgbImage<'_>),
    {
        // u64, so that a huge width * height cannot wrap around and pass the check.
        if length as u64 != width as u64 * height as u64 * 3 {
            std::process::abort(); // a trap: the Wasmtube ABI has no error channel
        }
        let pixels: &mut [u8] = if length == 0 {
            &mut []
        } else {
            // SAFETY: the host wrote `length` bytes at `index` and leaves them alone during the call.
            unsafe { slice::from_raw_parts_mut(index, length) }
        };
        handler(&mut RgbImage {
            width,
            height,
            pixels,
        });
        length as i32
    }

    /// Allocates `len` bytes for the host; null when out of memory, as the ABI asks.
    pub fn alloc(len: usize) -> *mut u8 {
        match Layout::array::<u8>(len) {
            // The allocator takes no zero-size requests; like an empty Vec, use a dangling pointer.
            Ok(layout) if layout.size() == 0 => NonNull::dangling().as_ptr(),
            // SAFETY: the layout has a non-zero size; `alloc` returns null on failure.
            Ok(layout) => unsafe { allocate(layout) },
            Err(_) => ptr::null_mut(), // a "negative" i32 length
        }
    }

    /// Frees an input or an output: both are `len` bytes aligned to 1.
    ///
    /// # Safety
    /// `ptr` and `len` must be those of an `alloc(len)` or an output not yet freed.
    pub unsafe fn free(ptr: *mut u8, len: usize) {
        if len != 0 {
            dealloc(ptr, Layout::from_size_align_unchecked(len, 1));
        }
    }

    fn input<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
        if len == 0 {
            return &[]; // `ptr` may be anything, even null
        }
        // SAFETY: the host wrote `len` bytes at `ptr`, valid during the call.
        unsafe { slice::from_raw_parts(ptr, len) }
    }

    fn run_json<I, O, F>(input: &[u8], handler: F) -> Result<Vec<u8>, String>
    where
        I: DeserializeOwned,
        O: Serialize,
        F: FnOnce(I) -> Result<O, String>,
    {
        let input = serde_json::from_slice(input)
            .map_err(|e| format!("input is not the JSON this function takes: {e}"))?;
        serde_json::to_vec(&handler(input)?)
            .map_err(|e| format!("the result could not be written as JSON: {e}"))
    }

    /// `{"error": message}`.
    fn error_json(message: &str) -> Vec<u8> {
        let mut map = serde_json::Map::new();
        map.insert("error".into(), message.into());
        // A map of one string always serialises; the fallback is never used.
        serde_json::to_vec(&map).unwrap_or_else(|_| br#"{"error":""}"#.to_vec())
    }

    /// Hands an output to the host, packed (length in bits 0-31, pointer in bits 32-62, bit 63
    /// for an error message); it becomes the host's to free with `wasmtube_free(ptr, len)`.
    fn pack(bytes: Vec<u8>, error: bool) -> i64 {
        // A boxed slice's allocation is exactly `len` bytes, the layout `free` frees.
        let bytes = bytes.into_boxed_slice();
        let len = bytes.len() as u32;
        let ptr = Box::into_raw(bytes) as *mut u8 as u32;
        if ptr >= 1 << 31 {
            std::process::abort(); // bit 63 is the error flag: outputs must lie below 2 GiB
        }
        (ptr as i64) << 32 | len as i64 | if error { i64::MIN } else { 0 }
    }
}
