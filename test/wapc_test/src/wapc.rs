//! A minimal waPC guest runtime, written from the protocol description rather than taken from the
//! wapc-guest crate: the raw imports from the host module "wapc", safe wrappers around them, the
//! handler table that `wapc_init` registers, and the `__guest_call` export.
//! `test/wapc_wasi_test` includes this file too (`#[path]`).

// The WASI guest makes no host calls and logs nothing.
#![allow(dead_code)]

use std::sync::Mutex;

mod raw {
    // Every pointer and length is an i32 in the wasm signature (wasm32).
    #[link(wasm_import_module = "wapc")]
    extern "C" {
        pub fn __guest_request(op_ptr: *mut u8, ptr: *mut u8);
        pub fn __guest_response(ptr: *const u8, len: usize);
        pub fn __guest_error(ptr: *const u8, len: usize);
        pub fn __host_call(
            bd_ptr: *const u8,
            bd_len: usize,
            ns_ptr: *const u8,
            ns_len: usize,
            op_ptr: *const u8,
            op_len: usize,
            ptr: *const u8,
            len: usize,
        ) -> i32;
        pub fn __host_response_len() -> usize;
        pub fn __host_response(ptr: *mut u8);
        pub fn __host_error_len() -> usize;
        pub fn __host_error(ptr: *mut u8);
        pub fn __console_log(ptr: *const u8, len: usize);
    }
}

/// An operation: the request payload in, the response payload or an error message out.
pub type Handler = fn(&[u8]) -> Result<Vec<u8>, String>;

// Empty until the host runs `wapc_init`, as with guests that register their functions there.
static HANDLERS: Mutex<&[(&str, Handler)]> = Mutex::new(&[]);

/// Makes `handlers` the operations `__guest_call` dispatches to.
pub fn register(handlers: &'static [(&'static str, Handler)]) {
    *HANDLERS.lock().unwrap() = handlers;
}

/// One request from the host: fetch the operation and payload, run the handler, hand back its
/// response or error. Returns 1 for success and 0 for an error.
#[no_mangle]
pub extern "C" fn __guest_call(op_len: i32, msg_len: i32) -> i32 {
    let result = match (usize::try_from(op_len), usize::try_from(msg_len)) {
        (Ok(op_len), Ok(msg_len)) => {
            let (op, msg) = request(op_len, msg_len);
            dispatch(&op, &msg)
        }
        _ => Err(format!("negative lengths: op_len {op_len}, msg_len {msg_len}")),
    };
    // SAFETY (both): the host copies (ptr, len) before it returns; the buffers outlive the call.
    match result {
        Ok(response) => {
            unsafe { raw::__guest_response(response.as_ptr(), response.len()) };
            1
        }
        Err(error) => {
            unsafe { raw::__guest_error(error.as_ptr(), error.len()) };
            0
        }
    }
}

fn request(op_len: usize, msg_len: usize) -> (String, Vec<u8>) {
    // waPC leaves all allocation to the guest: the host writes into buffers we size and own.
    let (mut op, mut msg) = (vec![0; op_len], vec![0; msg_len]);
    // SAFETY: the host writes exactly the op_len and msg_len bytes it passed to __guest_call.
    unsafe { raw::__guest_request(op.as_mut_ptr(), msg.as_mut_ptr()) };
    (String::from_utf8_lossy(&op).into_owned(), msg)
}

fn dispatch(op: &str, msg: &[u8]) -> Result<Vec<u8>, String> {
    // Copy the table out so that no lock is held while the handler runs.
    let handlers = *HANDLERS.lock().unwrap();
    if handlers.is_empty() {
        return Err("no operations registered: wapc_init has not run".into());
    }
    match handlers.iter().find(|(name, _)| *name == op) {
        Some((_, handler)) => handler(msg),
        None => Err(format!("unknown operation: {op}")),
    }
}

/// Calls operation `operation` of `binding`/`namespace` on the host: Ok(its response) or
/// Err(its error message).
pub fn host_call(
    binding: &str,
    namespace: &str,
    operation: &str,
    payload: &[u8],
) -> Result<Vec<u8>, String> {
    // SAFETY: the host only reads the four (ptr, len) ranges, and only during the call.
    let status = unsafe {
        raw::__host_call(
            binding.as_ptr(),
            binding.len(),
            namespace.as_ptr(),
            namespace.len(),
            operation.as_ptr(),
            operation.len(),
            payload.as_ptr(),
            payload.len(),
        )
    };
    // 1 is success, 0 an error; like the wapc-guest crate, take anything but 1 as an error.
    if status == 1 {
        Ok(fetch(raw::__host_response_len, raw::__host_response))
    } else {
        let error = fetch(raw::__host_error_len, raw::__host_error);
        Err(String::from_utf8_lossy(&error).into_owned())
    }
}

/// Asks the host for a length, then has it write that many bytes into a buffer of ours.
fn fetch(len: unsafe extern "C" fn() -> usize, write: unsafe extern "C" fn(*mut u8)) -> Vec<u8> {
    // SAFETY: `write` fills exactly the `len()` bytes the host just reported.
    unsafe {
        let mut buffer = vec![0; len()];
        write(buffer.as_mut_ptr());
        buffer
    }
}

/// Has the host log `message` (UTF-8).
pub fn console_log(message: &[u8]) {
    // SAFETY: the host only reads (ptr, len), during the call.
    unsafe { raw::__console_log(message.as_ptr(), message.len()) }
}
