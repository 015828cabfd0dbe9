/**
 * A component made ready to instantiate: transpiled by jco once per content (on the main thread),
 * its core modules compiled once, its world read. Everything here can be posted to a worker
 * thread: the glue is text, a `WebAssembly.Module` is cloned without recompiling.
 */
import type { ComponentWorld } from './wit-types.js';

/** What the glue's `instantiate` needs from the host, by interface. */
export interface ComponentImport {
  /** The interface as jco keys it, without version (`wasi:cli/environment`). */
  key: string;
  /** The functions and resources it takes from it, as jco names them (`getEnvironment`). */
  names: string[];
}

export interface ComponentCode {
  /** sha256 of the component's bytes. */
  hash: string;
  /** jco's JavaScript glue, as a script whose value is its `instantiate` function. */
  glue: string;
  /** The component's core modules by the file name the glue asks for. */
  coreModules: Record<string, WebAssembly.Module>;
  world: ComponentWorld;
  imports: ComponentImport[];
}
