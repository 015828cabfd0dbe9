//! A Caesar cipher as a WebAssembly component (world `example:cipher/encoder-decoder-service`,
//! wit/world.wit). The canonical ABI is written by hand, so the crate needs no dependency and
//! builds offline for `wasm32-unknown-unknown`; `scripts/build-components.mjs` turns the core
//! module into a component with the WIT embedded.
//!
//! The shift comes from the environment variable `SHIFT_AMOUNT` (default 3), read through
//! `wasi:cli/environment`; every call reports what it did through the host's `audit-log`.

use std::alloc::{alloc, dealloc, realloc, Layout};

#[link(wasm_import_module = "example:cipher/audit-log")]
extern "C" {
    #[link_name = "log"]
    fn audit_log(ptr: *const u8, len: usize);
}

#[link(wasm_import_module = "wasi:cli/environment@0.2.0")]
extern "C" {
    #[link_name = "get-environment"]
    fn get_environment(ret: *mut [usize; 2]);
}

/// Where an export's string result (pointer, length) is returned: one call at a time.
static mut RETURN_AREA: [usize; 2] = [0, 0];

/// The allocator the host uses to pass strings and lists in (canonical ABI `cabi_realloc`).
#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, size: usize) -> *mut u8 {
    if size == 0 {
        return align as *mut u8;
    }
    if old_size == 0 {
        return alloc(Layout::from_size_align_unchecked(size, align));
    }
    realloc(old, Layout::from_size_align_unchecked(old_size, align), size)
}

/// Takes ownership of a string the host allocated with `cabi_realloc`.
unsafe fn owned_string(ptr: *mut u8, len: usize) -> String {
    if len == 0 {
        return String::new();
    }
    String::from_utf8_unchecked(Vec::from_raw_parts(ptr, len, len))
}

/// `SHIFT_AMOUNT` from the environment the host grants, else 3.
fn shift_amount() -> u8 {
    let mut ret = [0usize; 2];
    let mut shift = None;
    unsafe {
        get_environment(&mut ret);
        let (list, count) = (ret[0] as *mut usize, ret[1]);
        for i in 0..count {
            let entry = list.add(i * 4);
            let key = owned_string(*entry as *mut u8, *entry.add(1));
            let value = owned_string(*entry.add(2) as *mut u8, *entry.add(3));
            if key == "SHIFT_AMOUNT" {
                shift = value.trim().parse::<i64>().ok();
            }
        }
        if count > 0 {
            dealloc(list as *mut u8, Layout::from_size_align_unchecked(count * 16, 4));
        }
    }
    shift.unwrap_or(3).rem_euclid(26) as u8
}

fn rotate(text: &str, shift: u8) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' => ((c as u8 - b'a' + shift) % 26 + b'a') as char,
            'A'..='Z' => ((c as u8 - b'A' + shift) % 26 + b'A') as char,
            _ => c,
        })
        .collect()
}

fn log(message: &str) {
    unsafe { audit_log(message.as_ptr(), message.len()) }
}

/// Hands a string result to the host; `cabi_post_*` frees it once the host has read it.
unsafe fn give_string(mut text: String) -> *mut [usize; 2] {
    text.shrink_to_fit();
    let bytes = text.into_bytes();
    RETURN_AREA = [bytes.as_ptr() as usize, bytes.len()];
    std::mem::forget(bytes);
    std::ptr::addr_of_mut!(RETURN_AREA)
}

unsafe fn free_result(ret: *mut [usize; 2]) {
    let [ptr, len] = *ret;
    if len > 0 {
        dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(len, 1));
    }
}

#[export_name = "encrypt"]
pub unsafe extern "C" fn encrypt(ptr: *mut u8, len: usize) -> *mut [usize; 2] {
    let message = owned_string(ptr, len);
    let shift = shift_amount();
    log(&format!("encrypt: {} characters with shift {}: {}", message.chars().count(), shift, message));
    give_string(rotate(&message, shift))
}

#[export_name = "decrypt"]
pub unsafe extern "C" fn decrypt(ptr: *mut u8, len: usize) -> *mut [usize; 2] {
    let message = owned_string(ptr, len);
    let shift = shift_amount();
    log(&format!("decrypt: {} characters with shift {}: {}", message.chars().count(), shift, message));
    give_string(rotate(&message, 26 - shift))
}

#[export_name = "cabi_post_encrypt"]
pub unsafe extern "C" fn post_encrypt(ret: *mut [usize; 2]) {
    free_result(ret)
}

#[export_name = "cabi_post_decrypt"]
pub unsafe extern "C" fn post_decrypt(ret: *mut [usize; 2]) {
    free_result(ret)
}
