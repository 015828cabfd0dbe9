// Isolation test guest (test/isolation-globals.test.ts) in AssemblyScript. The stub runtime's
// bump allocator keeps its offset in a mutable global the module does not export: every
// allocation moves it up and nothing moves it down. With `isolation: 'call'` each call starts
// from the ready offset, so it gets the same address; with `'instance'` the addresses climb.

/** Allocates a 64-byte block, writes the call's marker into it and returns its address. */
export function next_block(marker: i32): usize {
  const block = heap.alloc(64);
  store<i32>(block, marker);
  return block;
}

/** What the block at `address` holds (a marker an earlier call wrote, or 0). */
export function read_block(address: usize): i32 {
  return load<i32>(address);
}
