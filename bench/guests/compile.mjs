// Compiles the benchmark-only WAT guests with the npm wabt package, at bench time.
import { readFileSync } from 'node:fs';
import wabtInit from 'wabt';

let wabt;

/** Bytes of bench/guests/<name>.wat compiled to wasm. */
export async function compileGuest(name) {
  wabt ??= await wabtInit();
  const path = new URL(`./${name}.wat`, import.meta.url);
  const module = wabt.parseWat(`${name}.wat`, readFileSync(path, 'utf8'));
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
