import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callJson, expectError, moduleStatus, startGateway, tempFolder } from './server-helpers.js';

const CIPHER = new URL('../examples/cipher.wasm', import.meta.url);

/** A folder with the cipher example (which imports wasmtube.log) and the given sidecar. */
function cipherFolder(sidecar: object): string {
  const dir = tempFolder({ 'cipher.json': JSON.stringify(sidecar) });
  copyFileSync(CIPHER, join(dir, 'cipher.wasm'));
  return dir;
}

describe('host functions granted by the sidecar', () => {
  it('a granted function is called by the guest, with the gateway-given implementation', async () => {
    const audit: string[] = [];
    const gateway = await startGateway(cipherFolder({ hostFunctions: ['wasmtube.*'] }), {
      hostFunctions: {
        wasmtube: {
          log: { params: ['string'], returns: 'void', fn: (m: string) => void audit.push(m) },
        },
      },
    });
    const answer = await callJson(gateway, 'cipher', 'encrypt', { text: 'hello' });
    expect(answer.body).toEqual({ text: 'khoor', shift: 3 });
    expect(audit).toEqual(['encrypt: 5 characters, shift 3']);
  });

  it('nothing is granted by default: a module importing a host function does not deploy', async () => {
    const gateway = await startGateway(cipherFolder({}));
    expectError(
      await callJson(gateway, 'cipher', 'encrypt', { text: 'x' }),
      503,
      'ERR_MODULE_UNAVAILABLE',
    );
    expect((await moduleStatus(gateway, 'cipher')).error.code).toBe('ERR_WASM_INSTANTIATE');
  });

  it('granting a function the gateway does not offer is a sidecar error', async () => {
    const gateway = await startGateway(cipherFolder({ hostFunctions: ['fs.readFile'] }));
    expect((await moduleStatus(gateway, 'cipher')).error).toMatchObject({
      code: 'ERR_SIDECAR_INVALID',
      message: expect.stringContaining('wasmtube.log'),
    });
  });
});
