//! Isolation test guest for wasmtube (test/isolation-*.test.ts), Wasmtube ABI, raw bytes in and
//! out. Each function keeps what a call gave it where the next call on the same instance finds
//! it: a `static mut` buffer, a heap allocation, pages it grew. With `isolation: 'call'` no call
//! may find anything; with `'instance'` every call finds the previous one's payload.

use std::ptr;
use std::slice;

/// The previous payload, up to 4 KiB, and its length.
static mut BUFFER: [u8; 4096] = [0; 4096];
static mut KEPT: usize = 0;
/// A heap copy of a payload, grown into new pages by `grow`.
static mut HEAP_COPY: Option<&'static mut Vec<u8>> = None;

fn input<'a>(index: *mut u8, length: usize) -> &'a [u8] {
    // SAFETY: the host wrote `length` bytes at `index`.
    unsafe { slice::from_raw_parts(index, length) }
}

/// Writes `bytes` at `index` (a memmove) and returns their length, as the host expects.
fn store(index: *mut u8, bytes: &[u8]) -> i32 {
    // SAFETY: the host leaves room after `index` for the result.
    unsafe { ptr::copy(bytes.as_ptr(), index, bytes.len()) };
    bytes.len() as i32
}

/// Returns what the previous call kept in the static buffer, and keeps this call's payload.
#[no_mangle]
pub extern "C" fn remember(index: *mut u8, length: usize) -> i32 {
    let payload = input(index, length).to_vec();
    // SAFETY: one call at a time per instance.
    let previous = unsafe { BUFFER[..KEPT].to_vec() };
    let kept = payload.len().min(4096);
    unsafe {
        BUFFER[..kept].copy_from_slice(&payload[..kept]);
        KEPT = kept;
    }
    store(index, &previous)
}

/// Keeps the payload like `remember`, then panics (a trap under panic = "abort").
#[no_mangle]
pub extern "C" fn trap_after_keeping(index: *mut u8, length: usize) -> i32 {
    remember(index, length);
    deep(64, length)
}

/// Recurses with a stack frame per level before trapping, so the trap leaves the stack pointer
/// far below where the call found it.
#[inline(never)]
fn deep(levels: usize, seed: usize) -> i32 {
    let frame = [seed as u8; 512];
    if levels == 0 {
        panic!("trap at the bottom of the stack");
    }
    // black_box stand-in: the frame is read after the call, so it is kept.
    let below = deep(levels - 1, seed + 1);
    below + frame[levels % 512] as i32
}

/// Returns what the previous `grow` kept on the heap, then keeps this payload repeated to 2 MiB
/// on the heap (dlmalloc grows memory for it) until the next call.
#[no_mangle]
pub extern "C" fn grow(index: *mut u8, length: usize) -> i32 {
    let payload = input(index, length).to_vec();
    // SAFETY: one call at a time per instance.
    let previous = unsafe { HEAP_COPY.take() }
        .map(|copy| copy[..length.min(copy.len())].to_vec())
        .unwrap_or_default();
    let mut copy = Vec::with_capacity(2 << 20);
    while copy.len() + payload.len() <= 2 << 20 && !payload.is_empty() {
        copy.extend_from_slice(&payload);
    }
    unsafe { HEAP_COPY = Some(Box::leak(Box::new(copy))) };
    store(index, &previous)
}

/// The address of a local: where the stack pointer is. 4 bytes, little-endian.
#[no_mangle]
pub extern "C" fn stack_address(index: *mut u8, _length: usize) -> i32 {
    let local = [0u8; 16];
    let address = ptr::addr_of!(local) as usize as u32;
    store(index, &address.to_le_bytes())
}

/// Leaves the payload (up to 1 KiB) in a stack frame 4 KiB below the caller's and returns
/// nothing: what a call leaves on the stack when it returns.
#[no_mangle]
pub extern "C" fn keep_on_stack(index: *mut u8, length: usize) -> i32 {
    let payload = input(index, length);
    fill_deep_frame(payload);
    0
}

#[inline(never)]
fn fill_deep_frame(payload: &[u8]) {
    let mut frame = [0u8; 4096];
    let kept = payload.len().min(1024);
    frame[..kept].copy_from_slice(&payload[..kept]);
    // SAFETY: reads the frame back, so that the writes are not optimised away.
    unsafe { ptr::read_volatile(&frame) };
}

/// Returns the 8 KiB of stack below this call's frame as they are, unwritten: a call that could
/// see an earlier call's frames would find them there.
#[no_mangle]
pub extern "C" fn peek_stack(index: *mut u8, _length: usize) -> i32 {
    let local = [0u8; 16];
    let below = ptr::addr_of!(local) as usize - 8192;
    // SAFETY: stack memory is linear memory: reading it is defined, only its value is stale.
    let seen = unsafe { slice::from_raw_parts(below as *const u8, 8192) }.to_vec();
    store(index, &seen)
}
