//! The allocator ABI of docs/ABI.md. The guest owns its memory: the host asks `wasmtube_alloc`
//! for room for the input, and a data function returns its output packed in an `i64` (length in
//! bits 0–31, pointer in bits 32–62, bit 63 set for an error message), which the host copies and
//! then frees with `wasmtube_free`. Inputs and outputs share one layout, `len` bytes aligned to 1,
//! so `wasmtube_free(ptr, len)` frees either.

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::{self, NonNull};
use std::slice;

/// What a data function produces: the output bytes, or an error message for the host.
pub type Output = Result<Vec<u8>, String>;

/// Allocates `len` bytes for the host. Returns 0 when out of memory rather than trapping, as the
/// ABI asks, so the host can report it.
#[no_mangle]
pub extern "C" fn wasmtube_alloc(len: usize) -> *mut u8 {
    match Layout::array::<u8>(len) {
        // The allocator takes no zero-size requests; like an empty Vec, use a dangling pointer.
        Ok(layout) if layout.size() == 0 => NonNull::dangling().as_ptr(),
        // SAFETY: the layout has a non-zero size. `alloc` returns null on failure.
        Ok(layout) => unsafe { alloc(layout) },
        // A "negative" i32 length, above isize::MAX.
        Err(_) => ptr::null_mut(),
    }
}

/// Frees an input or output.
///
/// # Safety
/// `ptr` and `len` must be those of a `wasmtube_alloc(len)` or an output not yet freed.
#[no_mangle]
pub unsafe extern "C" fn wasmtube_free(ptr: *mut u8, len: usize) {
    if len != 0 {
        dealloc(ptr, Layout::from_size_align_unchecked(len, 1));
    }
}

/// The `len` input bytes at `ptr`. They are valid only during the call: the host frees them after.
pub fn input<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[]; // `ptr` may be anything, even null
    }
    // SAFETY: the host wrote `len` bytes at `ptr`, memory it got from `wasmtube_alloc`.
    unsafe { slice::from_raw_parts(ptr, len) }
}

/// The input as UTF-8 text, for functions that take a string.
pub fn text<'a>(ptr: *const u8, len: usize) -> Result<&'a str, String> {
    std::str::from_utf8(input(ptr, len)).map_err(|e| format!("input is not UTF-8: {e}"))
}

/// Hands an output to the host, packed; it becomes the host's to free.
pub fn output(result: Output) -> i64 {
    match result {
        Ok(bytes) => pack(bytes, false),
        Err(message) => pack(message.into_bytes(), true),
    }
}

fn pack(bytes: Vec<u8>, error: bool) -> i64 {
    // A boxed slice's allocation is exactly `len` bytes, the layout `wasmtube_free` frees.
    let bytes = bytes.into_boxed_slice();
    let len = bytes.len() as u32;
    let ptr = Box::into_raw(bytes) as *mut u8 as u32;
    // Bit 63 is the error flag, so an output must lie below 2 GiB.
    assert!(ptr < 1 << 31, "output above 2 GiB");
    (ptr as i64) << 32 | len as i64 | if error { i64::MIN } else { 0 }
}
