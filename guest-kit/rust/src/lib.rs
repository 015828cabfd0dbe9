//! Stand-in for the `wasmtube-guest` crate: the macros below, nothing more.
//!
//! - `json_export!(name, |input: In| -> Result<Out, String> { .. })`: a Wasmtube ABI data
//!   function `name(index, length) -> i32`. The input is JSON decoded into `In`; `Ok(out)` is
//!   written back at `index` as JSON. The Wasmtube ABI has no error channel: an `Err` (or input
//!   that does not decode) panics, which the host reports as `ERR_GUEST_TRAP`.
//! - `alloc_exports!()`: `wasmtube_alloc` and `wasmtube_free`, for the allocator ABI.
//! - `alloc_json_export!(name, |input: In| -> Result<Out, String> { .. })`: an allocator ABI data
//!   function `name(ptr, len) -> i64`. An `Err(message)` (or input that does not decode) is
//!   returned as an error output, which the host reports as `ERR_GUEST_ERROR`.
//! - `image_export!(name, |image: &mut RgbImage| { .. })`: a Wasmtube ABI image function
//!   `name(index, length, width, height) -> i32` that edits the RGB pixels in place.

use serde::{de::DeserializeOwned, Serialize};

/// An image passed to an [`image_export!`] function: `width * height` RGB pixels, 3 bytes each.
pub struct RgbImage<'a> {
    pub width: u32,
    pub height: u32,
    pub pixels: &'a mut [u8],
}

/// Exports `$name(index: i32, length: i32) -> i32`, a JSON function over the Wasmtube ABI.
#[macro_export]
macro_rules! json_export {
    ($name:ident, $handler:expr) => {
        #[no_mangle]
        pub extern "C" fn $name(index: *mut u8, length: usize) -> i32 {
            $crate::__private::wasmtube_json(index, length, $handler)
        }
    };
}

/// Exports `$name(ptr: i32, len: i32) -> i64`, a JSON function over the allocator ABI.
/// Use `alloc_exports!()` once in the crate as well.
#[macro_export]
macro_rules! alloc_json_export {
    ($name:ident, $handler:expr) => {
        #[no_mangle]
        pub extern "C" fn $name(ptr: *const u8, len: usize) -> i64 {
            $crate::__private::alloc_json(ptr, len, $handler)
        }
    };
}

/// Exports `wasmtube_alloc(len: i32) -> i32` and `wasmtube_free(ptr: i32, len: i32)`.
#[macro_export]
macro_rules! alloc_exports {
    () => {
        #[no_mangle]
        pub extern "C" fn wasmtube_alloc(len: usize) -> *mut u8 {
            $crate::__private::alloc(len)
        }

        #[no_mangle]
        pub unsafe extern "C" fn wasmtube_free(ptr: *mut u8, len: usize) {
            $crate::__private::free(ptr, len)
        }
    };
}

/// Exports `$name(index, length, width, height: i32) -> i32`, an image function over the
/// Wasmtube ABI that edits the image in place (the result has the input's size).
#[macro_export]
macro_rules! image_export {
    ($name:ident, $handler:expr) => {
        #[no_mangle]
        pub extern "C" fn $name(index: *mut u8, length: usize, width: u32, height: u32) -> i32 {
            $crate::__private::image(index, length, width, height, $handler)
        }
    };
}

/// What the macros expand to. Not a stable API.
#[doc(hidden)]
pub mod __private {
    use super::*;
    use std::{ptr, slice};

    pub fn wasmtube_json<I, O, F>(index: *mut u8, length: usize, handler: F) -> i32
    where
        I: DeserializeOwned,
        O: Serialize,
        F: FnOnce(I) -> Result<O, String>,
    {
        // SAFETY: the host guarantees `length` bytes at `index` are in memory.
        let bytes = unsafe { slice::from_raw_parts(index, length) };
        let input: I = match serde_json::from_slice(bytes) {
            Ok(input) => input,
            Err(error) => panic!("invalid input: {}", error),
        };
        let output = match handler(input) {
            Ok(output) => serde_json::to_vec(&output).expect("the output serialises to JSON"),
            Err(message) => panic!("{}", message),
        };
        // SAFETY: a memmove; the host leaves room after `index` for the result.
        unsafe { ptr::copy(output.as_ptr(), index, output.len()) };
        output.len() as i32
    }

    pub fn alloc_json<I, O, F>(ptr: *const u8, len: usize, handler: F) -> i64
    where
        I: DeserializeOwned,
        O: Serialize,
        F: FnOnce(I) -> Result<O, String>,
    {
        // SAFETY: the host wrote `len` bytes at `ptr`, which wasmtube_alloc returned.
        let bytes = unsafe { slice::from_raw_parts(ptr, len) };
        let result = serde_json::from_slice::<I>(bytes)
            .map_err(|error| format!("invalid input: {}", error))
            .and_then(handler);
        match result {
            Ok(output) => match serde_json::to_vec(&output) {
                Ok(json) => pack(json, false),
                Err(error) => pack(format!("output is not JSON: {}", error).into_bytes(), true),
            },
            Err(message) => pack(message.into_bytes(), true),
        }
    }

    pub fn image<F>(index: *mut u8, length: usize, width: u32, height: u32, handler: F) -> i32
    where
        F: FnOnce(&mut RgbImage),
    {
        // u64: a huge width * height cannot wrap around and pass the check.
        assert_eq!(length as u64, width as u64 * height as u64 * 3, "length is not width * height * 3");
        // SAFETY: the host guarantees `length` bytes at `index` are in memory.
        let pixels = unsafe { slice::from_raw_parts_mut(index, length) };
        handler(&mut RgbImage { width, height, pixels });
        length as i32
    }

    pub fn alloc(len: usize) -> *mut u8 {
        let mut buf = Vec::<u8>::with_capacity(len);
        let ptr = buf.as_mut_ptr();
        std::mem::forget(buf);
        ptr
    }

    /// # Safety
    /// `ptr` and `len` as `alloc` (or an output of `pack`) gave them.
    pub unsafe fn free(ptr: *mut u8, len: usize) {
        drop(Vec::from_raw_parts(ptr, 0, len));
    }

    /// Length in bits 0-31, pointer in bits 32-62, bit 63 for an error message.
    fn pack(bytes: Vec<u8>, error: bool) -> i64 {
        let bytes = bytes.into_boxed_slice(); // capacity == len, as `free` expects
        let (len, ptr) = (bytes.len() as i64, Box::into_raw(bytes) as *mut u8 as i64);
        (ptr << 32) | len | if error { i64::MIN } else { 0 }
    }
}
