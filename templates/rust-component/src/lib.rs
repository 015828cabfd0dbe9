//! A WebAssembly component (world `guest` in wit/world.wit), with the canonical ABI written by
//! hand so the crate needs no dependency and builds offline:
//! - a string parameter arrives as (pointer, length) of UTF-8 the host allocated with
//!   `cabi_realloc`: the guest owns it;
//! - a record flattens into its fields (`point` is two f64);
//! - a result wider than one value (a string, a `result`) is written to a return area whose
//!   address the function returns; `cabi_post_<name>` frees what it pointed to once the host has
//!   read it;
//! - an import is a function of module `<package>/<interface>`.

use std::alloc::{alloc, dealloc, realloc, Layout};

#[link(wasm_import_module = "wasmtube:guest/log")]
extern "C" {
    #[link_name = "log"]
    fn host_log(ptr: *const u8, len: usize);
}

fn log(message: &str) {
    unsafe { host_log(message.as_ptr(), message.len()) }
}

#[repr(C, align(4))]
struct ReturnArea([u32; 3]);
static mut RETURN_AREA: ReturnArea = ReturnArea([0; 3]);

fn return_area() -> *mut u32 {
    unsafe { std::ptr::addr_of_mut!(RETURN_AREA) as *mut u32 }
}

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

unsafe fn take_string(ptr: *mut u8, len: usize) -> String {
    if len == 0 {
        return String::new();
    }
    String::from_utf8_unchecked(Vec::from_raw_parts(ptr, len, len))
}

/// Hands a string to the host as (pointer, length); `free_string` gives the memory back.
fn give_string(text: String) -> (u32, u32) {
    let mut bytes = text.into_bytes();
    bytes.shrink_to_fit();
    let out = (bytes.as_ptr() as u32, bytes.len() as u32);
    std::mem::forget(bytes);
    out
}

unsafe fn free_string(ptr: u32, len: u32) {
    if len > 0 {
        dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(len as usize, 1));
    }
}

#[export_name = "greet"]
pub unsafe extern "C" fn greet(ptr: *mut u8, len: usize) -> *mut u32 {
    let name = take_string(ptr, len);
    log(&format!("greeting {}", name));
    let (ptr, len) = give_string(format!("Hello, {}!", name));
    let area = return_area();
    *area = ptr;
    *area.add(1) = len;
    area
}

#[export_name = "cabi_post_greet"]
pub unsafe extern "C" fn post_greet(area: *mut u32) {
    free_string(*area, *area.add(1));
}

#[export_name = "distance"]
pub extern "C" fn distance(ax: f64, ay: f64, bx: f64, by: f64) -> f64 {
    ((bx - ax).powi(2) + (by - ay).powi(2)).sqrt()
}

/// result<s32, string>: the case at offset 0 (0 ok, 1 err), then the s32, or the string's
/// (pointer, length).
#[export_name = "divide"]
pub unsafe extern "C" fn divide(a: i32, b: i32) -> *mut u32 {
    let area = return_area();
    match a.checked_div(b) {
        Some(quotient) => {
            *area = 0;
            *area.add(1) = quotient as u32;
        }
        None => {
            let (ptr, len) = give_string(format!("cannot divide {} by {}", a, b));
            *area = 1;
            *area.add(1) = ptr;
            *area.add(2) = len;
        }
    }
    area
}

#[export_name = "cabi_post_divide"]
pub unsafe extern "C" fn post_divide(area: *mut u32) {
    if *area == 1 {
        free_string(*area.add(1), *area.add(2));
    }
}
