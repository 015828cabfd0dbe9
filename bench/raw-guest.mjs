// The floor of a Wasmtube-ABI call, hand-rolled: write the bytes into a region at the top of the
// guest's memory, call the export, copy the result out. No JSON, no checks, no queue. Used in the
// calling thread (scenario floor) and inside the bare benchmark threads and the piscina task.
import { readFileSync } from 'node:fs';

const PAGE = 65536;

/**
 * Instantiates a Wasmtube-ABI module synchronously and returns `call(fn, bytes, width?, height?)`:
 * the result bytes, copied out of guest memory (the copy is what a host must do anyway: the next
 * call may grow memory and detach any view of it).
 */
export function loadRawGuest(path, { regionBytes = 16 * 1024 * 1024 } = {}) {
  const module = new WebAssembly.Module(readFileSync(path));
  const { exports } = new WebAssembly.Instance(module, {});
  const memory = exports.memory;
  const offset = memory.buffer.byteLength;
  memory.grow(Math.ceil(regionBytes / PAGE)); // a host-owned region, as the bridge does
  let view = new Uint8Array(memory.buffer);

  return function call(fn, bytes, width, height) {
    if (view.buffer !== memory.buffer) view = new Uint8Array(memory.buffer);
    view.set(bytes, offset);
    const length =
      width === undefined
        ? exports[fn](offset, bytes.length)
        : exports[fn](offset, bytes.length, width, height);
    if (view.buffer !== memory.buffer) view = new Uint8Array(memory.buffer);
    return view.slice(offset, offset + length);
  };
}
