//! A test component whose exports take and return every kind of WIT value (world.wit), with the
//! canonical ABI written by hand: records, variants and options flatten into parameters; results
//! larger than one value go through a return area; strings and lists the host passes in were
//! allocated with `cabi_realloc` and are owned (and freed) here.

use std::alloc::{alloc, dealloc, realloc, Layout};

#[repr(C, align(8))]
struct ReturnArea([u8; 32]);
static mut RET: ReturnArea = ReturnArea([0; 32]);

fn ret() -> *mut u8 {
    unsafe { std::ptr::addr_of_mut!(RET) as *mut u8 }
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

unsafe fn take_list<T>(ptr: *mut T, len: usize) -> Vec<T> {
    if len == 0 {
        return Vec::new();
    }
    Vec::from_raw_parts(ptr, len, len)
}

/// Leaks a string to the host as (pointer, length); the post-return function frees it.
fn give_string(text: String) -> (u32, u32) {
    let mut bytes = text.into_bytes();
    bytes.shrink_to_fit();
    let out = (bytes.as_ptr() as u32, bytes.len() as u32);
    std::mem::forget(bytes);
    out
}

unsafe fn free_bytes(ptr: u32, len: u32) {
    if len > 0 {
        dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(len as usize, 1));
    }
}

unsafe fn write_u32(at: usize, value: u32) {
    *(ret().add(at) as *mut u32) = value;
}

unsafe fn read_u32(base: *mut u8, at: usize) -> u32 {
    *(base.add(at) as *const u32)
}

unsafe fn person(name: *mut u8, name_len: usize, age: u32, has_nick: u32, nick: *mut u8, nick_len: usize) -> (String, u8, Option<String>) {
    let nickname = if has_nick != 0 { Some(take_string(nick, nick_len)) } else { None };
    (take_string(name, name_len), age as u8, nickname)
}

#[export_name = "greet"]
pub unsafe extern "C" fn greet(name: *mut u8, name_len: usize, age: u32, has_nick: u32, nick: *mut u8, nick_len: usize) -> *mut u8 {
    let (name, age, nickname) = person(name, name_len, age, has_nick, nick, nick_len);
    let (ptr, len) = give_string(format!("Hello, {} ({})!", nickname.unwrap_or(name), age));
    write_u32(0, ptr);
    write_u32(4, len);
    ret()
}

#[export_name = "cabi_post_greet"]
pub unsafe extern "C" fn post_greet(area: *mut u8) {
    free_bytes(read_u32(area, 0), read_u32(area, 4));
}

/// person: name (ptr @0, len @4), age u8 @8, nickname: tag u8 @12, (ptr @16, len @20).
#[export_name = "birthday"]
pub unsafe extern "C" fn birthday(name: *mut u8, name_len: usize, age: u32, has_nick: u32, nick: *mut u8, nick_len: usize) -> *mut u8 {
    let (name, age, nickname) = person(name, name_len, age, has_nick, nick, nick_len);
    let nickname = match nickname {
        Some(n) => format!("{} the elder", n),
        None => "the elder".to_string(),
    };
    let (name_ptr, name_len) = give_string(name);
    let (nick_ptr, nick_len) = give_string(nickname);
    write_u32(0, name_ptr);
    write_u32(4, name_len);
    *ret().add(8) = age.wrapping_add(1);
    *ret().add(12) = 1;
    write_u32(16, nick_ptr);
    write_u32(20, nick_len);
    ret()
}

#[export_name = "cabi_post_birthday"]
pub unsafe extern "C" fn post_birthday(area: *mut u8) {
    free_bytes(read_u32(area, 0), read_u32(area, 4));
    if *area.add(12) != 0 {
        free_bytes(read_u32(area, 16), read_u32(area, 20));
    }
}

#[export_name = "sum"]
pub unsafe extern "C" fn sum(ptr: *mut i32, len: usize) -> i64 {
    take_list(ptr, len).iter().map(|&x| x as i64).sum()
}

/// result<u32, string>: tag u8 @0, then u32 @4 or (ptr @4, len @8).
#[export_name = "divide"]
pub unsafe extern "C" fn divide(a: u32, b: u32) -> *mut u8 {
    if b == 0 {
        let (ptr, len) = give_string("division by zero".to_string());
        *ret() = 1;
        write_u32(4, ptr);
        write_u32(8, len);
    } else {
        *ret() = 0;
        write_u32(4, a / b);
    }
    ret()
}

#[export_name = "cabi_post_divide"]
pub unsafe extern "C" fn post_divide(area: *mut u8) {
    if *area != 0 {
        free_bytes(read_u32(area, 4), read_u32(area, 8));
    }
}

/// shape flattens to (case, f64, f64): circle(r) uses the first, rect(w, h) both.
#[export_name = "area"]
pub extern "C" fn area(case: u32, a: f64, b: f64) -> f64 {
    match case {
        0 => std::f64::consts::PI * a * a,
        1 => a * b,
        _ => 0.0,
    }
}

#[export_name = "next-color"]
pub extern "C" fn next_color(color: u32) -> u32 {
    (color + 1) % 3
}

#[export_name = "invert"]
pub extern "C" fn invert(perms: u32) -> u32 {
    !perms & 0b111
}

/// option<u32>: tag u8 @0, value @4.
#[export_name = "find"]
pub unsafe extern "C" fn find(names: *mut u32, count: usize, wanted: *mut u8, wanted_len: usize) -> *mut u8 {
    let wanted = take_string(wanted, wanted_len);
    let entries = take_list(names as *mut [u32; 2], count);
    let mut found = None;
    for (i, [ptr, len]) in entries.iter().enumerate() {
        let name = take_string(*ptr as *mut u8, *len as usize);
        if found.is_none() && name == wanted {
            found = Some(i as u32);
        }
    }
    *ret() = found.is_some() as u8;
    write_u32(4, found.unwrap_or(0));
    ret()
}

#[export_name = "increment"]
pub extern "C" fn increment(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[export_name = "negate"]
pub extern "C" fn negate(x: i64) -> i64 {
    x.wrapping_neg()
}

#[export_name = "reverse"]
pub unsafe extern "C" fn reverse(ptr: *mut u8, len: usize) -> *mut u8 {
    let mut bytes = take_list(ptr, len);
    bytes.reverse();
    bytes.shrink_to_fit();
    write_u32(0, bytes.as_ptr() as u32);
    write_u32(4, bytes.len() as u32);
    std::mem::forget(bytes);
    ret()
}

#[export_name = "cabi_post_reverse"]
pub unsafe extern "C" fn post_reverse(area: *mut u8) {
    free_bytes(read_u32(area, 0), read_u32(area, 4));
}
