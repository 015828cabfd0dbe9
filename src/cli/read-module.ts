import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isComponent } from '../component/component-binary.js';
import { WasmCompileError, WasmFileNotFoundError, WasmFileReadError } from '../errors.js';

/**
 * Reads a .wasm file named on the command line and checks that it compiles (a core module; a
 * component is checked when it is described), so that a missing file, a text file or a
 * truncated module is one typed error (exit 3), never a stack trace.
 * @throws `ERR_WASM_FILE_NOT_FOUND`, `ERR_WASM_FILE_READ`, `ERR_WASM_COMPILE`
 */
export async function readWasmModule(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new WasmFileNotFoundError(`No file at ${resolve(file)}.`, {
        cause: error,
        details: { path: file },
      });
    }
    throw new WasmFileReadError(`Cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
      details: { path: file, errno: code },
    });
  }
  // A component is read (and checked, with a typed error) by describeGuest, not by the engine.
  if (isComponent(bytes)) return bytes;
  try {
    await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (error) {
    throw new WasmCompileError(
      `${file} is not a valid WebAssembly module (${(error as Error).message}). Pass a ` +
        `complete .wasm binary: not .wat text, a JavaScript wrapper or a partly copied file.`,
      { cause: error, details: { path: file } },
    );
  }
  return bytes;
}
