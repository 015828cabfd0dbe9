// {{name}}: a wasmtube guest in AssemblyScript, over the allocator ABI.
//
//   wasmtube call {{name}}.wasm greet --data '"Ada"'     # {"message":"Hello, Ada!"}
//   wasmtube call {{name}}.wasm sum --data '[1, 2, 3.5]' # 6.5
//   wasmtube call {{name}}.wasm sum --data '"x"'         # ERR_GUEST_ERROR: expected an array of numbers
//
// AssemblyScript has no JSON parser built in: these functions read the simple inputs they
// expect by hand. For richer JSON, add a library such as `json-as` (npm).

import { readString, respond, respondError } from './wasmtube-guest';

// The host allocates inputs and frees outputs with these.
export { wasmtube_alloc, wasmtube_free } from './wasmtube-guest';

/** A JSON string `"Ada"` → `{"message":"Hello, Ada!"}`. */
export function greet(ptr: usize, len: i32): i64 {
  const input = readString(ptr, len).trim();
  if (input.length < 2 || !input.startsWith('"') || !input.endsWith('"')) {
    return respondError('expected a JSON string, e.g. "Ada"');
  }
  // The text between the quotes, escapes and all, is still a valid JSON string body.
  const name = input.slice(1, input.length - 1);
  return respond('{"message":"Hello, ' + name + '!"}');
}

/** A JSON array of numbers `[1, 2, 3.5]` → their sum, `6.5`. */
export function sum(ptr: usize, len: i32): i64 {
  const input = readString(ptr, len).trim();
  if (!input.startsWith('[') || !input.endsWith(']')) {
    return respondError('expected an array of numbers, e.g. [1, 2, 3.5]');
  }
  const body = input.slice(1, input.length - 1).trim();
  let total = 0.0;
  if (body.length > 0) {
    const items = body.split(',');
    for (let i = 0; i < items.length; i++) {
      const value = parseFloat(items[i].trim());
      if (isNaN(value)) return respondError('not a number: ' + items[i].trim());
      total += value;
    }
  }
  return respond(total.toString());
}
