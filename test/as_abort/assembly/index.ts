// Test guest built with AssemblyScript's defaults: no `--use abort=`, so the module imports
// `env.abort(message, fileName, line, column)`, which the host provides without any grant. Data
// functions in the Wasmtube ABI: (index, length) -> result length, the result written at index.

/** The input bytes, unchanged: the result is the input, already at the index. */
export function echo(index: usize, length: i32): i32 {
  return length;
}

/** Fails on every call with AssemblyScript's assert, whose message the host reports. */
export function fail(index: usize, length: i32): i32 {
  assert(length < 0, 'input rejected by the guest');
  return length;
}
