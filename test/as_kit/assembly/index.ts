// Test guest for wasmtube written with the AssemblyScript guest kit
// (guest-kit/assemblyscript/wasmtube-guest.ts): text, JSON text and bytes over the allocator ABI.

import {
  readBytes,
  readString,
  respond,
  respondBytes,
  respondError,
} from '../../../guest-kit/assemblyscript/wasmtube-guest';
export { wasmtube_alloc, wasmtube_free } from '../../../guest-kit/assemblyscript/wasmtube-guest';

/** Text in, text out: "Hello, <name>!"; an empty name is an error. */
export function greet(ptr: usize, len: i32): i64 {
  const name = readString(ptr, len);
  if (name.length == 0) return respondError('greet needs a name');
  return respond('Hello, ' + name + '!');
}

/** A JSON string in (`{ data: 'héllo' }`), `{"chars":n}` out; anything else is an error. The
 * parsing is naive on purpose: the kit has no JSON, a guest brings its own. */
export function measure(ptr: usize, len: i32): i64 {
  const json = readString(ptr, len);
  if (json.length < 2 || !json.startsWith('"') || !json.endsWith('"')) {
    return respondError('measure takes a JSON string, not ' + json);
  }
  return respond('{"chars":' + (json.length - 2).toString() + '}');
}

/** Bytes in, the same bytes reversed out. */
export function reverse(ptr: usize, len: i32): i64 {
  const bytes = readBytes(ptr, len);
  bytes.reverse();
  return respondBytes(bytes);
}
