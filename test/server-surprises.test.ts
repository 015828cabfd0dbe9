// The gateway as a new user first meets it: each case here failed on the main branch of issue 16.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { versionGuest, wat } from './guests.js';
import { expectedGray, gradient, jpegOf, pngOf } from './helpers.js';
import {
  callJson,
  expectError,
  guestFolder,
  moduleStatus,
  send,
  startGateway,
  tempFolder,
  until,
} from './server-helpers.js';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

const post = (url: string, body: Uint8Array, headers: Record<string, string>) =>
  send(url, { method: 'POST', body, headers });

describe('never surprise: the gateway', () => {
  it('an image function called without Accept answers an image in the format sent', async () => {
    const gateway = await startGateway(EXAMPLES, { watch: false });
    const url = `${gateway.url}/functions/filters/grayscale`;
    const png = await post(url, await pngOf(32, 16), { 'content-type': 'image/png' });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const pixels = await sharp(png.body).raw().toBuffer();
    expect(pixels.equals(expectedGray(gradient(32, 16)))).toBe(true);

    const jpeg = await post(url, await jpegOf(32, 16), { 'content-type': 'image/jpeg' });
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(jpeg.body).metadata()).format).toBe('jpeg');
    // curl sends Accept: */*, which chooses nothing.
    const any = await post(url, await pngOf(8, 8), { 'content-type': 'image/png', accept: '*/*' });
    expect(any.headers.get('content-type')).toBe('image/png');
  });

  it('an image function that answers JSON still answers JSON', async () => {
    const gateway = await startGateway(guestFolder(), { watch: false });
    const answer = await post(`${gateway.url}/functions/guest/image_size`, await pngOf(20, 10), {
      'content-type': 'image/png',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ width: 20, height: 10 });
  });

  it('a result that is not JSON: the message says the HTTP fix and quotes no payload bytes', async () => {
    const gateway = await startGateway(guestFolder(), { watch: false });
    const answer = await callJson(gateway, 'guest', 'garbage_output', null);
    expectError(answer, 502, 'ERR_RESULT_DECODE');
    const message: string = answer.body.error.message;
    expect(message).toContain('?format=bytes');
    expect(message).not.toContain('returns:');
    expect(message).not.toMatch(/\\x[0-9a-f]{2}/);
    expect(message.length).toBeLessThan(300);
  });

  it('a rejected reload names the version actually serving', async () => {
    const dir = tempFolder({ 'm.wasm': versionGuest(1) });
    const gateway = await startGateway(dir);
    writeFileSync(join(dir, 'm.wasm'), versionGuest(2));
    await until(async () => (await moduleStatus(gateway, 'm')).version === 2, 'version 2');
    // Without `which`, which version 2 exports: rejected (requireExports).
    const noWhich = wat(
      '(module (memory (export "memory") 1) (func (export "echo") (param i32 i32) (result i32) (local.get 1)))',
    );
    writeFileSync(join(dir, 'm.wasm'), noWhich);
    await until(
      async () => (await moduleStatus(gateway, 'm')).error?.code === 'ERR_RELOAD_REJECTED',
      'the reload to be rejected',
    );
    const status = await moduleStatus(gateway, 'm');
    expect(status.version).toBe(2);
    expect(status.error.message).toMatch(/^Version 2 keeps serving/);
    expect((await callJson(gateway, 'm', 'which')).body).toEqual({ v: 2 });
  });

  it("the README's image curl uses an image shipped in examples/, and it works", async () => {
    const line = README.split('\n').find((l) => l.includes('functions/filters/grayscale'))!;
    const file = /--data-binary @(\S+)/.exec(line)?.[1];
    expect(file).toBe('examples/cat.png');
    const gateway = await startGateway(EXAMPLES, { watch: false });
    const cat = readFileSync(join(EXAMPLES, 'cat.png'));
    const answer = await post(`${gateway.url}/functions/filters/grayscale`, cat, {
      'content-type': 'image/png',
    });
    expect(answer.status).toBe(200);
    expect(await sharp(answer.body).metadata()).toMatchObject({ format: 'png', width: 128 });
    const pkg = JSON.parse(readFileSync(join(EXAMPLES, '../package.json'), 'utf8'));
    expect(pkg.files).toContain('examples/*.png');
  });
});
