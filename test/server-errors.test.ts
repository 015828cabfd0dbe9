import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../dist/index.js';
import { gatewayErrorCodes, STATUS_BY_CODE } from '../dist/server/index.js';
import {
  callJson,
  expectError,
  guestFolder,
  moduleStatus,
  send,
  slowCall,
  startGateway,
  tempFolder,
} from './server-helpers.js';

const post = (
  url: string,
  body: string | Uint8Array | undefined,
  headers: Record<string, string> = {},
) => send(url, { method: 'POST', body, headers });

describe('typed errors map to HTTP statuses with { error: { code, message } }', () => {
  it('404: unknown module, unknown function, unknown route', async () => {
    const gateway = await startGateway(guestFolder());
    expectError(await callJson(gateway, 'nope', 'echo', 1), 404, 'ERR_MODULE_NOT_FOUND');
    const fn = await callJson(gateway, 'guest', 'nope', 1);
    expectError(fn, 404, 'ERR_EXPORT_NOT_FOUND');
    expectError(await send(`${gateway.url}/nope`), 404, 'ERR_ROUTE_NOT_FOUND');
    expectError(await send(`${gateway.url}/functions/guest/echo`), 404, 'ERR_ROUTE_NOT_FOUND');
    expectError(await send(`${gateway.url}/functions/nope`), 404, 'ERR_MODULE_NOT_FOUND');
  });

  it('400: bad JSON, bad module name, wrong signature, bad image, size mismatch, bad query', async () => {
    const gateway = await startGateway(guestFolder());
    const url = `${gateway.url}/functions/guest`;
    const json = { 'content-type': 'application/json' };
    expectError(await post(`${url}/echo`, '{"a":', json), 400, 'ERR_BAD_REQUEST');
    expectError(await post(`${url}/echo`, '', json), 400, 'ERR_BAD_REQUEST');
    expectError(await callJson(gateway, 'bad.name', 'echo', 1), 400, 'ERR_MODULE_NAME_INVALID');
    expectError(await post(`${url}/grayscale`, '{}', json), 400, 'ERR_EXPORT_SIGNATURE');
    expectError(
      await post(`${url}/grayscale`, 'not a png', { 'content-type': 'image/png' }),
      400,
      'ERR_IMAGE_DECODE',
    );
    expectError(
      await post(`${url}/grayscale?width=4&height=4`, Buffer.alloc(10), {
        'content-type': 'application/octet-stream',
      }),
      400,
      'ERR_IMAGE_SIZE_MISMATCH',
    );
    expectError(await post(`${url}/echo?colour=red`, '{}', json), 400, 'ERR_INVALID_ARGUMENT');
    expectError(await post(`${url}/echo?format=gif`, '{}', json), 400, 'ERR_INVALID_ARGUMENT');
    expectError(
      await post(`${url}/echo?width=0&height=2`, '{}', json),
      400,
      'ERR_INVALID_ARGUMENT',
    );
    // An image result needs an image input.
    expectError(await post(`${url}/echo?format=png`, '{}', json), 400, 'ERR_INVALID_ARGUMENT');
  });

  it('413 past the body limit, 415 for other media types', async () => {
    const gateway = await startGateway(guestFolder(), { bodyLimitBytes: 1024 });
    expectError(
      await post(`${gateway.url}/functions/guest/echo`, JSON.stringify('x'.repeat(2000)), {
        'content-type': 'application/json',
      }),
      413,
      'ERR_PAYLOAD_TOO_LARGE',
    );
    expectError(
      await post(`${gateway.url}/functions/guest/echo`, 'hello', { 'content-type': 'text/plain' }),
      415,
      'ERR_UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('429 with Retry-After when the queue is full', async () => {
    const dir = guestFolder({ 'guest.json': JSON.stringify({ threads: 1, maxQueue: 0 }) });
    const gateway = await startGateway(dir);
    const slow = await slowCall(gateway);
    const full = await callJson(gateway, 'guest', 'echo', 1);
    expectError(full, 429, 'ERR_QUEUE_FULL');
    expect(full.headers.get('retry-after')).toBe('1');
    expect((await slow.answer).status).toBe(200);
  });

  it('504 for a call past its timeout and for one that waited too long in the queue', async () => {
    const dir = guestFolder({ 'guest.json': JSON.stringify({ threads: 1, timeoutMs: 300 }) });
    copyFileSync(join(dir, 'guest.wasm'), join(dir, 'queued.wasm'));
    writeFileSync(join(dir, 'queued.json'), JSON.stringify({ threads: 1, queueTimeoutMs: 50 }));
    const gateway = await startGateway(dir);
    expectError(await callJson(gateway, 'guest', 'endless_loop', null), 504, 'ERR_CALL_TIMEOUT');
    const slow = await slowCall(gateway, 'queued');
    expectError(await callJson(gateway, 'queued', 'echo', 1), 504, 'ERR_QUEUE_TIMEOUT');
    expect((await slow.answer).status).toBe(200);
  });

  it('500 when the guest traps or runs out of memory; 502 when its result is not one', async () => {
    const dir = guestFolder({ 'guest.json': JSON.stringify({ maxMemoryMb: 32 }) });
    const gateway = await startGateway(dir);
    expectError(await callJson(gateway, 'guest', 'trap', null), 500, 'ERR_GUEST_TRAP');
    expectError(await callJson(gateway, 'guest', 'memory_bomb', null), 500, 'ERR_MEMORY_LIMIT');
    expectError(await callJson(gateway, 'guest', 'garbage_output', null), 502, 'ERR_RESULT_DECODE');
    expectError(
      await callJson(gateway, 'guest', 'length_past_end', null),
      502,
      'ERR_RESULT_OUT_OF_BOUNDS',
    );
    // The module keeps serving after each of them.
    expect((await callJson(gateway, 'guest', 'echo', 7)).body).toBe(7);
  });

  it('503 with Retry-After for a module whose file did not deploy', async () => {
    const gateway = await startGateway(tempFolder({ 'broken.wasm': 'not wasm' }));
    const answer = await callJson(gateway, 'broken', 'echo', 1);
    expectError(answer, 503, 'ERR_MODULE_UNAVAILABLE');
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(await moduleStatus(gateway, 'broken')).toMatchObject({
      state: 'failed',
      error: { code: 'ERR_WASM_COMPILE' },
    });
  });

  it('every gateway code is documented in docs/server.md', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../docs/server.md', import.meta.url), 'utf8');
    for (const code of gatewayErrorCodes()) expect(doc).toContain(`\`${code}\``);
  });

  it('every error code has an explicit status in the one table', () => {
    // Codes that never reach an HTTP answer: loading (surfaces as a failed module instead),
    // registry and reload bookkeeping, and the CLI's own.
    const notHttp = new Set([
      'ERR_WASM_FILE_NOT_FOUND',
      'ERR_WASM_FILE_READ',
      'ERR_WASM_COMPILE',
      'ERR_WASM_INSTANTIATE',
      'ERR_MEMORY_NOT_EXPORTED',
      'ERR_ISOLATION_UNSUPPORTED',
      'ERR_START_TIMEOUT',
      'ERR_NAME_TAKEN',
      'ERR_WORKER_NOT_FOUND',
      'ERR_RELOAD_REJECTED',
      'ERR_PROBE_FAILED',
      'ERR_UNKNOWN',
      'ERR_UNSAFE_PATH',
      'ERR_SIDECAR_INVALID',
      'ERR_DEPLOY_FOLDER',
      'ERR_INPUT_FILE',
      'ERR_TEMPLATE_UNSUPPORTED',
      'ERR_TARGET_NOT_EMPTY',
      'ERR_LISTEN_FAILED',
      'ERR_GATEWAY_UNREACHABLE',
    ]);
    const unmapped = [...errorCodes(), ...gatewayErrorCodes()].filter(
      (code) => !notHttp.has(code) && !(code in STATUS_BY_CODE),
    );
    expect(unmapped, 'add these codes to STATUS_BY_CODE in src/server/http-errors.ts').toEqual([]);
  });
});
