import { createHash } from 'node:crypto';

/**
 * The SHA-256 of `data` (a string is hashed as UTF-8), as 64 lowercase hex digits.
 * @example
 * ```ts
 * sha256(await readFile('guest.wasm')); // 'e3b0c442…'
 * ```
 */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
