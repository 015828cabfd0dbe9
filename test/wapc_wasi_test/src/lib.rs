//! waPC test guest for wasmtube built for wasm32-wasi: it imports module "wapc" and
//! `wasi_snapshot_preview1`, exports `__guest_call` and `wapc_init`, and its operations use what
//! WASI grants: environment variables, preopened files, stdout/stderr and `proc_exit`. A cdylib,
//! so it has no `_start`; it is a WASI reactor, with the `_initialize` defined below.

// The same hand-written waPC runtime as the plain guest.
#[path = "../../wapc_test/src/wapc.rs"]
mod wapc;

use std::borrow::Cow;
use std::io::Write;

type Reply = Result<Vec<u8>, String>;

const HANDLERS: &[(&str, wapc::Handler)] = &[
    ("echo", echo),
    ("env", env),
    ("read", read),
    ("print", print),
    ("exit", exit),
];

extern "C" {
    /// Synthesised by the linker: runs the C and Rust static constructors, among them wasi-libc's
    /// that finds the preopened directories.
    fn __wasm_call_ctors();
}

/// The WASI reactor entry point, which the host runs once before anything else. Defining it (as
/// wasi-libc's crt1-reactor.o would) also stops wasm-ld from wrapping every export in
/// constructors-then-destructors, which re-ran the preopen scan and leaked memory on each call.
#[no_mangle]
pub extern "C" fn _initialize() {
    // SAFETY: called once, by the host, before any other export.
    unsafe { __wasm_call_ctors() }
}

/// waPC's start function, run by the host once, after `_initialize` (there is no `_start`).
#[no_mangle]
pub extern "C" fn wapc_init() {
    wapc::register(HANDLERS);
}

fn text(payload: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(payload)
}

/// The payload, as it is.
fn echo(payload: &[u8]) -> Reply {
    Ok(payload.to_vec())
}

/// NAME -> the value of environment variable NAME, or the error "not set: NAME".
fn env(payload: &[u8]) -> Reply {
    let name = text(payload);
    std::env::var(&*name).map(String::into_bytes).map_err(|_| format!("not set: {name}"))
}

/// A path -> the contents of that file, or the error the read failed with.
fn read(payload: &[u8]) -> Reply {
    std::fs::read(&*text(payload)).map_err(|e| e.to_string())
}

/// Writes the payload to stdout and to stderr; "printed".
fn print(payload: &[u8]) -> Reply {
    let text = text(payload);
    print!("{text}");
    eprint!("{text}");
    // Rust's stdout is line-buffered: flush so a payload without a newline is written now.
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    Ok(b"printed".to_vec())
}

/// An integer (decimal text) -> proc_exit with it as the exit code; never returns.
fn exit(payload: &[u8]) -> Reply {
    let code = text(payload).trim().parse().map_err(|e| format!("exit: {e}"))?;
    std::process::exit(code)
}
