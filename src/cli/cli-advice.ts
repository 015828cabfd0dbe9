import { ResultDecodeError, WasmtubeError } from '../errors.js';

/**
 * Rewords the errors whose library message names a JavaScript option (`returns: 'bytes'`) so
 * that a `wasmtube call` user reads the fix in flags (`--returns bytes`). Others pass unchanged.
 */
export function forCli(error: unknown): unknown {
  if (!(error instanceof WasmtubeError) || error.code !== ResultDecodeError.code) return error;
  const { fn, length, problem } = error.details;
  if (typeof problem !== 'string') return error;
  return new ResultDecodeError(
    `The ${String(length)}-byte result of "${String(fn)}" ${problem}. To write the result as ` +
      `it is, pass --out <file>.bin (or --returns bytes --out <file>); for an image function ` +
      `with --image, --out <file>.png writes the image.`,
    { cause: error, details: error.details },
  );
}
