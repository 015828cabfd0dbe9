/** Telling a WebAssembly component from a core module by its preamble. */

/**
 * True for the component preamble `00 61 73 6d 0d 00 01 00` (`\0asm`, version 13, layer 1);
 * a core module has version 1, layer 0.
 */
export function isComponent(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 8 &&
    bytes[0] === 0x00 &&
    bytes[1] === 0x61 &&
    bytes[2] === 0x73 &&
    bytes[3] === 0x6d &&
    bytes[4] === 0x0d &&
    bytes[5] === 0x00 &&
    bytes[6] === 0x01 &&
    bytes[7] === 0x00
  );
}
