// WebAssembly components served by the gateway: the cipher example with its sidecar, its
// audit-log in the gateway's log, WIT types in GET /functions/:module, and hot reloads between
// a core module and a component in the deploy folder.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  callJson,
  captureLog,
  expectError,
  moduleStatus,
  send,
  startGateway,
  tempFolder,
  until,
} from './server-helpers.js';

const CAESAR = fileURLToPath(new URL('../examples/caesar.wasm', import.meta.url));
const CAESAR_SIDECAR = fileURLToPath(new URL('../examples/caesar.json', import.meta.url));
const CORE_CIPHER = fileURLToPath(new URL('../examples/cipher.wasm', import.meta.url));
const FAULTS = fileURLToPath(new URL('./fixtures/component_faults.wasm', import.meta.url));

const AUDIT = ['example:cipher/audit-log.log=wasmtube.log'];

describe('components over HTTP', () => {
  it('serves the cipher example: default shift 3, audit-log lines in the gateway log', async () => {
    const dir = tempFolder({ 'caesar.json': readFileSync(CAESAR_SIDECAR) });
    copyFileSync(CAESAR, join(dir, 'caesar.wasm'));
    const lines: Record<string, unknown>[] = [];
    const gateway = await startGateway(dir, { watch: false, logger: captureLog(lines, 'info') });
    const secret = await callJson(gateway, 'caesar', 'encrypt', { message: 'hello world' });
    expect(secret.status).toBe(200);
    expect(secret.body).toBe('khoor zruog');
    const plain = await callJson(gateway, 'caesar', 'decrypt', { message: secret.body });
    expect(plain.body).toBe('hello world');
    const audit = lines.filter((l) => l.hostFunction === 'wasmtube.log').map((l) => l.msg);
    expect(audit).toEqual([
      'encrypt: 11 characters with shift 3: hello world',
      'decrypt: 11 characters with shift 3: khoor zruog',
    ]);
    const metrics = (await send(`${gateway.url}/metrics`)).body.toString();
    expect(metrics).toMatch(
      /wasmtube_calls_total\{[^}]*module="caesar"[^}]*function="encrypt"[^}]*\} 1/,
    );
    const status = await moduleStatus(gateway, 'caesar');
    expect(status).toMatchObject({ state: 'serving', wasi: true });
    expect(status.functions).toEqual([
      { name: 'encrypt', type: 'func(message: string) -> string', convention: 'component' },
      { name: 'decrypt', type: 'func(message: string) -> string', convention: 'component' },
    ]);
  });

  it('SHIFT_AMOUNT comes from the sidecar env; bad input is a 400 before the guest runs', async () => {
    const sidecar = { wasi: { env: { SHIFT_AMOUNT: '7' } }, hostFunctions: AUDIT };
    const dir = tempFolder({ 'caesar.json': JSON.stringify(sidecar) });
    copyFileSync(CAESAR, join(dir, 'caesar.wasm'));
    const lines: Record<string, unknown>[] = [];
    const gateway = await startGateway(dir, { watch: false, logger: captureLog(lines, 'info') });
    expect((await callJson(gateway, 'caesar', 'encrypt', { message: 'abc' })).body).toBe('hij');
    expectError(
      await callJson(gateway, 'caesar', 'encrypt', { message: 3 }),
      400,
      'ERR_INVALID_ARGUMENT',
    );
    expectError(
      await callJson(gateway, 'caesar', 'encrypt', { text: 'abc' }),
      400,
      'ERR_EXPORT_SIGNATURE',
    );
    expectError(await callJson(gateway, 'caesar', 'encrypt', ['abc']), 400, 'ERR_INVALID_ARGUMENT');
    expectError(
      await callJson(gateway, 'caesar', 'rot13', { message: 'abc' }),
      404,
      'ERR_EXPORT_NOT_FOUND',
    );
    expect(lines.filter((l) => l.hostFunction === 'wasmtube.log')).toHaveLength(1);
  });

  it('a component whose sidecar does not grant its audit-log is not deployed, and says why', async () => {
    const dir = tempFolder({ 'caesar.json': JSON.stringify({ wasi: {} }) });
    copyFileSync(CAESAR, join(dir, 'caesar.wasm'));
    const gateway = await startGateway(dir, { watch: false });
    const status = await moduleStatus(gateway, 'caesar');
    expect(status.state).toBe('failed');
    expect(status.error.code).toBe('ERR_WASM_INSTANTIATE');
    expect(status.error.message).toContain('example:cipher/audit-log.log');
  });

  it('a trap is a 500 and the next call is served by a fresh instance; a loop times out', async () => {
    const dir = tempFolder({ 'faults.json': JSON.stringify({ timeoutMs: 300 }) });
    copyFileSync(FAULTS, join(dir, 'faults.wasm'));
    const gateway = await startGateway(dir, { watch: false });
    expect((await callJson(gateway, 'faults', 'count', {})).body).toBe(1);
    expectError(await callJson(gateway, 'faults', 'trap', {}), 500, 'ERR_GUEST_TRAP');
    expect((await callJson(gateway, 'faults', 'count')).body).toBe(1);
    expectError(await callJson(gateway, 'faults', 'spin', {}), 504, 'ERR_CALL_TIMEOUT');
    expect((await callJson(gateway, 'faults', 'count', {})).body).toBe(1);
  });

  it('hot-reloads a core module into a component and back', async () => {
    const sidecar = {
      wasi: { env: { SHIFT: '5', SHIFT_AMOUNT: '5' } },
      hostFunctions: ['wasmtube.log', ...AUDIT],
    };
    const dir = tempFolder({ 'cipher.json': JSON.stringify(sidecar) });
    const file = join(dir, 'cipher.wasm');
    copyFileSync(CORE_CIPHER, file);
    const gateway = await startGateway(dir);
    expect((await callJson(gateway, 'cipher', 'encrypt', { text: 'hello world' })).body).toEqual({
      shift: 5,
      text: 'mjqqt btwqi',
    });
    writeFileSync(file, readFileSync(CAESAR));
    await until(async () => (await moduleStatus(gateway, 'cipher')).version === 2, 'version 2');
    const component = await callJson(gateway, 'cipher', 'encrypt', { message: 'hello world' });
    expect(component.body).toBe('mjqqt btwqi');
    expect(component.headers.get('x-wasmtube-version')).toBe('2');
    expect((await moduleStatus(gateway, 'cipher')).functions[0].convention).toBe('component');
    writeFileSync(file, readFileSync(CORE_CIPHER));
    await until(async () => (await moduleStatus(gateway, 'cipher')).version === 3, 'version 3');
    expect((await callJson(gateway, 'cipher', 'decrypt', { text: 'mjqqt btwqi' })).body).toEqual({
      shift: 5,
      text: 'hello world',
    });
  });
});
