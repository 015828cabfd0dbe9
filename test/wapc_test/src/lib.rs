//! waPC test guest for wasmtube, written by hand from the waPC protocol (the runtime is in
//! `wapc`): it imports the nine host functions of module "wapc" and exports `__guest_call` and
//! `wapc_init`. Payloads are bytes; the operations below say what each expects.

mod wapc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, Ordering};

type Reply = Result<Vec<u8>, String>;

const HANDLERS: &[(&str, wapc::Handler)] = &[
    ("echo", echo),
    ("ping_host", ping_host),
    ("host_op", host_op),
    ("fail", fail),
    ("log", log),
    ("msgpack_double", msgpack_double),
    ("json_sum", json_sum),
    ("init_calls", init_calls),
    ("trap", trap),
];

/// How many times the host has run `wapc_init` (a host should run it once per instance).
static INIT_CALLS: AtomicU32 = AtomicU32::new(0);

/// waPC's start function, run by the host once, after `_start` (which this guest does not have).
#[no_mangle]
pub extern "C" fn wapc_init() {
    INIT_CALLS.fetch_add(1, Ordering::Relaxed);
    wapc::register(HANDLERS);
}

fn text(payload: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(payload)
}

/// The payload, as it is.
fn echo(payload: &[u8]) -> Reply {
    Ok(payload.to_vec())
}

/// The host's response to test/ns/pong with this payload, or the error "host said: <its error>".
fn ping_host(payload: &[u8]) -> Reply {
    wapc::host_call("test", "ns", "pong", payload).map_err(|e| format!("host said: {e}"))
}

#[derive(Deserialize)]
struct HostOp {
    binding: String,
    namespace: String,
    operation: String,
    #[serde(default)]
    payload: String,
}

/// {"binding", "namespace", "operation", "payload": string} -> as `ping_host`, for that call.
fn host_op(payload: &[u8]) -> Reply {
    let call: HostOp = serde_json::from_slice(payload).map_err(|e| format!("host_op: {e}"))?;
    wapc::host_call(&call.binding, &call.namespace, &call.operation, call.payload.as_bytes())
        .map_err(|e| format!("host said: {e}"))
}

/// Always the error "fail: <payload>".
fn fail(payload: &[u8]) -> Reply {
    Err(format!("fail: {}", text(payload)))
}

/// Sends the payload to `__console_log`; "logged".
fn log(payload: &[u8]) -> Reply {
    wapc::console_log(payload);
    Ok(b"logged".to_vec())
}

#[derive(Deserialize, Serialize)]
struct N {
    n: i64,
}

/// MessagePack {"n": n} -> {"n": 2n}, a map with field names.
fn msgpack_double(payload: &[u8]) -> Reply {
    let N { n } = rmp_serde::from_slice(payload).map_err(|e| format!("msgpack_double: {e}"))?;
    let n = n.checked_mul(2).ok_or("msgpack_double: overflow")?;
    rmp_serde::to_vec_named(&N { n }).map_err(|e| e.to_string())
}

#[derive(Deserialize)]
struct Terms {
    a: f64,
    b: f64,
}

/// JSON {"a": number, "b": number} -> {"sum": a + b}.
fn json_sum(payload: &[u8]) -> Reply {
    let Terms { a, b } = serde_json::from_slice(payload).map_err(|e| format!("json_sum: {e}"))?;
    let sum = a + b;
    if !sum.is_finite() {
        return Err("json_sum: the sum is not finite".into());
    }
    // Whole sums as integers, as JavaScript writes them: {"sum":3}, not {"sum":3.0}.
    let sum = if sum.fract() == 0.0 && sum.abs() < 2f64.powi(53) {
        json!(sum as i64)
    } else {
        json!(sum)
    };
    Ok(json!({ "sum": sum }).to_string().into_bytes())
}

/// How many times `wapc_init` ran, as decimal text.
fn init_calls(_: &[u8]) -> Reply {
    Ok(INIT_CALLS.load(Ordering::Relaxed).to_string().into_bytes())
}

/// Panics; with panic = "abort" that is a wasm trap (`unreachable`).
fn trap(_: &[u8]) -> Reply {
    panic!("trap requested")
}
