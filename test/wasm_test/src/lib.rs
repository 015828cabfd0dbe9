//! Test guest for wasmtube, byte-compatible with the Elixir library Wasmtube.
//!
//! JSON functions: `fn(index, length) -> i32`. The host has written `length`
//! bytes of UTF-8 JSON at `index`; the function writes its result at `index`
//! and returns the result length.
//!
//! Image functions: `fn(index, length, width, height) -> i32`, where the input
//! is `width * height * 3` raw RGB bytes, processed in place.
//!
//! The module has no imports. Under `panic = "abort"` every panic is a wasm
//! `unreachable` trap, which the host sees as a failed call.

use serde::Deserialize;
use serde_json::{json, Value};
use std::ptr;
use std::slice;
use std::sync::atomic::{AtomicU64, Ordering};

/// The `length` input bytes the host wrote at `index`.
fn input<'a>(index: *mut u8, length: usize) -> &'a [u8] {
    // SAFETY: the host guarantees `length` bytes at `index` are in memory.
    unsafe { slice::from_raw_parts(index, length) }
}

/// Parses the input as JSON; invalid input traps.
fn parse<'a, T: Deserialize<'a>>(index: *mut u8, length: usize) -> T {
    serde_json::from_slice(input(index, length)).expect("input is not the expected JSON")
}

/// Copies the result to `index` and returns its length, as the host expects.
fn store(index: *mut u8, bytes: &[u8]) -> i32 {
    // SAFETY: `copy` is a memmove, so overlapping the input is fine. The host
    // must leave room after `index` for results longer than the input.
    unsafe { ptr::copy(bytes.as_ptr(), index, bytes.len()) };
    bytes.len() as i32
}

fn store_json(index: *mut u8, value: &Value) -> i32 {
    store(
        index,
        &serde_json::to_vec(value).expect("a Value always serialises"),
    )
}

/// The RGB pixels of an image call; traps unless `length == width * height * 3`.
fn pixels<'a>(index: *mut u8, length: usize, width: u32, height: u32) -> &'a mut [u8] {
    // u64 so that a huge width * height cannot wrap around and pass the check.
    assert_eq!(
        length as u64,
        width as u64 * height as u64 * 3,
        "length is not width * height * 3"
    );
    // SAFETY: as in `input`; the host does not touch memory during the call.
    unsafe { slice::from_raw_parts_mut(index, length) }
}

/// Writes back the JSON value it was given (re-serialised: compact, keys sorted).
#[no_mangle]
pub extern "C" fn echo(index: *mut u8, length: usize) -> i32 {
    store_json(index, &parse::<Value>(index, length))
}

/// Per-instance state: returns {"count": n}, 1 on the first call after instantiation.
#[no_mangle]
pub extern "C" fn count(index: *mut u8, _length: usize) -> i32 {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed) + 1;
    store_json(index, &json!({ "count": n }))
}

#[no_mangle]
pub extern "C" fn image_size(index: *mut u8, length: usize, width: u32, height: u32) -> i32 {
    pixels(index, length, width, height);
    store_json(index, &json!({ "width": width, "height": height }))
}

/// In place: every pixel becomes its luma (BT.601 weights in 8-bit fixed point).
#[no_mangle]
pub extern "C" fn grayscale(index: *mut u8, length: usize, width: u32, height: u32) -> i32 {
    let image = pixels(index, length, width, height);
    for px in image.chunks_exact_mut(3) {
        let y = (77 * px[0] as u32 + 150 * px[1] as u32 + 29 * px[2] as u32) >> 8;
        px.fill(y as u8);
    }
    image.len() as i32
}

/// In place: every byte becomes 255 - byte, 16 bytes per instruction.
#[no_mangle]
pub extern "C" fn invert(index: *mut u8, length: usize, width: u32, height: u32) -> i32 {
    let image = pixels(index, length, width, height);
    // SAFETY: every engine Node supports has wasm SIMD (V8 since 9.1, Node 16.4).
    unsafe { invert_simd(image) };
    image.len() as i32
}

/// A byte loop costs ~2.7 ms per 1080p image; this ~0.16 ms (memory bound), as a real filter would.
#[target_feature(enable = "simd128")]
unsafe fn invert_simd(image: &mut [u8]) {
    use core::arch::wasm32::{v128, v128_load, v128_not, v128_store};
    let mut chunks = image.chunks_exact_mut(16);
    for chunk in &mut chunks {
        let p = chunk.as_mut_ptr() as *mut v128;
        v128_store(p, v128_not(v128_load(p)));
    }
    chunks.into_remainder().iter_mut().for_each(|b| *b = !*b);
}

#[derive(Deserialize)]
struct Work {
    rounds: u64,
}

/// CPU-bound work of a chosen size: {"rounds": n} -> {"rounds": n, "value": "<u64>"}.
/// The value is output, so the loop cannot be optimised away; it is a string
/// because a u64 does not fit a JavaScript number.
#[no_mangle]
pub extern "C" fn work(index: *mut u8, length: usize) -> i32 {
    let Work { rounds } = parse(index, length);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..rounds {
        // xorshift64
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    store_json(index, &json!({ "rounds": rounds, "value": x.to_string() }))
}

#[derive(Deserialize)]
struct Repeat {
    text: String,
    times: usize,
}

/// An output far larger than its input: {"text": s, "times": n} -> JSON string s * n.
#[no_mangle]
pub extern "C" fn repeat(index: *mut u8, length: usize) -> i32 {
    let Repeat { text, times } = parse(index, length);
    store_json(index, &Value::String(text.repeat(times)))
}

// Adversarial guests: each misbehaves in one way a host must survive.

/// Traps (`unreachable`).
#[no_mangle]
pub extern "C" fn trap(_index: *mut u8, _length: usize) -> i32 {
    panic!("trap requested");
}

/// Never returns. The volatile write is a side effect, so the loop stays in.
#[no_mangle]
pub extern "C" fn endless_loop(_index: *mut u8, _length: usize) -> i32 {
    static mut SPIN: u32 = 0;
    loop {
        // SAFETY: single-threaded guest; nothing else reads SPIN.
        unsafe { ptr::write_volatile(ptr::addr_of_mut!(SPIN), SPIN.wrapping_add(1)) };
    }
}

/// Grows memory 1 MiB at a time, touching every byte and keeping every chunk,
/// until allocation fails (an abort, i.e. a trap) at the engine's memory limit.
#[no_mangle]
pub extern "C" fn memory_bomb(_index: *mut u8, _length: usize) -> i32 {
    // Published through a volatile write so the allocations escape and the
    // optimiser cannot drop them as unused.
    static mut KEPT: *const Vec<u8> = ptr::null();
    let mut chunks = Vec::new();
    loop {
        // Non-zero fill: a zeroed allocation could skip the writes.
        chunks.push(vec![0xA5u8; 1 << 20]);
        // SAFETY: single-threaded guest; KEPT is only ever written.
        unsafe { ptr::write_volatile(ptr::addr_of_mut!(KEPT), chunks.as_ptr()) };
    }
}

#[no_mangle]
pub extern "C" fn negative_length(_index: *mut u8, _length: usize) -> i32 {
    -1
}

/// A result length that runs far past the end of memory.
#[no_mangle]
pub extern "C" fn length_past_end(_index: *mut u8, _length: usize) -> i32 {
    i32::MAX
}

/// Output that is neither UTF-8 nor JSON.
#[no_mangle]
pub extern "C" fn garbage_output(index: *mut u8, _length: usize) -> i32 {
    store(index, &[0xff, 0xfe, 0x00, b'{', b'x'])
}
