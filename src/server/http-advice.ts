import { ResultDecodeError, WasmtubeError } from '../errors.js';

/**
 * Rewords the errors whose library message names a JavaScript option (`returns: 'bytes'`) so
 * that an HTTP client reads the fix in HTTP terms (`?format=bytes`). Others pass unchanged.
 */
export function forHttp(error: unknown): unknown {
  if (!(error instanceof WasmtubeError) || error.code !== ResultDecodeError.code) return error;
  const { fn, length, problem } = error.details;
  if (typeof problem !== 'string') return error;
  return new ResultDecodeError(
    `The ${String(length)}-byte result of "${String(fn)}" ${problem}. To get the result as it ` +
      `is, ask for ?format=bytes (or Accept: application/octet-stream); ?format=json expects ` +
      `UTF-8 JSON and ?format=png|jpeg|webp an image of the input's size.`,
    { cause: error, details: error.details },
  );
}
