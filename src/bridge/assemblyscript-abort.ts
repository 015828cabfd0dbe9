import type { CompiledModule } from './compiled-module.js';
import type { GuestMemory } from './guest-memory.js';

const utf16 = new TextDecoder('utf-16le');
/** Longest AssemblyScript abort message or file name read, in bytes (the rest is cut). */
const MAX_ABORT_STRING_BYTES = 4096;

/** What an AssemblyScript guest passed to `env.abort(message, fileName, line, column)`. */
export interface AssemblyScriptAbort {
  message: string | null;
  fileName: string | null;
  line: number;
  column: number;
}

/**
 * Thrown out of `env.abort` (an AssemblyScript guest's `throw`, `assert` or `abort()`): like the
 * `unreachable` the guest executes after its own abort handler, it ends the guest's call, and
 * the call's trap error carries this message.
 */
export class GuestAbort extends Error {
  constructor(readonly abort: AssemblyScriptAbort) {
    super(formatAbort(abort));
    this.name = 'GuestAbort';
  }
}

/** The text `@wapc/as-guest`'s `handleAbort` reports: `abort: <message> at <file>:<line>:<col>`. */
export function formatAbort({ message, fileName, line, column }: AssemblyScriptAbort): string {
  return `abort: ${message ?? ''} at ${fileName ?? ''}:${line}:${column}`;
}

/**
 * The module imports `env.abort(message, fileName, line, column)` as AssemblyScript declares it
 * (four i32, no result; the arity alone when the binary's signatures could not be read). Every
 * AssemblyScript module built without `--use abort=` does.
 */
export function importsAssemblyScriptAbort(compiled: CompiledModule): boolean {
  const entry = compiled.info?.imports.find((i) => i.module === 'env' && i.name === 'abort');
  if (compiled.info && !entry) return false;
  if (entry?.signature) {
    const { params, results } = entry.signature;
    return params.length === 4 && params.every((p) => p === 'i32') && results.length === 0;
  }
  return WebAssembly.Module.imports(compiled.module).some(
    (i) => i.module === 'env' && i.name === 'abort' && i.kind === 'function',
  );
}

/**
 * The host's `env.abort`: reads the guest's message and file name and ends the call with a
 * {@link GuestAbort}. It grants nothing: it only reads the guest's own memory. `onAbort` sees
 * the abort first (waPC sessions keep it for their error).
 */
export function assemblyScriptAbort(
  memory: () => GuestMemory | undefined,
  onAbort?: (abort: AssemblyScriptAbort) => void,
): (message: number, fileName: number, line: number, column: number) => never {
  return (message, fileName, line, column) => {
    const abort: AssemblyScriptAbort = {
      message: readAssemblyScriptString(memory(), message),
      fileName: readAssemblyScriptString(memory(), fileName),
      line: line >>> 0,
      column: column >>> 0,
    };
    onAbort?.(abort);
    throw new GuestAbort(abort);
  };
}

/**
 * An AssemblyScript string: UTF-16LE at `ptr`, its byte length in the object header's `rtSize`
 * field at `ptr - 4`. Null (0) stays null; a pointer outside memory reads as a placeholder, since
 * the guest is already failing and its own message matters more than a second error.
 */
function readAssemblyScriptString(memory: GuestMemory | undefined, ptr: number): string | null {
  if (ptr === 0) return null;
  const address = ptr >>> 0;
  if (!memory || address < 4 || address > memory.byteLength) return `(string at ${address})`;
  const length = Buffer.from(memory.read(address - 4, 4)).readUInt32LE(0);
  const bytes = Math.min(length, memory.byteLength - address, MAX_ABORT_STRING_BYTES) & ~1;
  return utf16.decode(memory.read(address, bytes));
}
