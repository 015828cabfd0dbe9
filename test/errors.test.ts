import { describe, expect, it } from 'vitest';
import {
  ExportNotFoundError,
  GuestTrapError,
  WasmtubeError,
  deserializeError,
  errorCodes,
  serializeError,
} from '../dist/index.js';

describe('errors', () => {
  it('every class carries its stable code and is an instance of WasmtubeError', () => {
    const error = new GuestTrapError('boom', { details: { name: 'f' } });
    expect(error.code).toBe('ERR_GUEST_TRAP');
    expect(error.name).toBe('GuestTrapError');
    expect(error).toBeInstanceOf(GuestTrapError);
    expect(error).toBeInstanceOf(WasmtubeError);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ExportNotFoundError);
  });

  it('survives structured clone via serializeError / deserializeError', () => {
    const cause = new Error('unreachable');
    const original = new GuestTrapError('trapped', { cause, details: { name: 'trap' } });
    const cloned = deserializeError(structuredClone(serializeError(original)));
    expect(cloned).toBeInstanceOf(GuestTrapError);
    expect(cloned.code).toBe('ERR_GUEST_TRAP');
    expect(cloned.message).toBe('trapped');
    expect(cloned.details).toEqual({ name: 'trap' });
    expect((cloned.cause as Error).message).toBe('unreachable');
  });

  it('wraps foreign errors as ERR_UNKNOWN', () => {
    const cloned = deserializeError(serializeError(new TypeError('nope')));
    expect(cloned.code).toBe('ERR_UNKNOWN');
    expect(cloned).toBeInstanceOf(WasmtubeError);
  });

  it('lists every code, each documented in docs/errors.md', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../docs/errors.md', import.meta.url), 'utf8');
    expect(errorCodes().length).toBeGreaterThan(15);
    for (const code of errorCodes()) expect(doc).toContain(`\`${code}\``);
  });
});
