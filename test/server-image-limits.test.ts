import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { pngOf } from './helpers.js';
import { expectError, guestFolder, moduleStatus, send, startGateway } from './server-helpers.js';

const image = (body: Uint8Array, type = 'image/png') => ({
  method: 'POST',
  body,
  headers: { 'content-type': type, accept: 'image/png' },
});

// A 12000×12000 PNG of one colour: ≈0.4 MB encoded, 432 MB of RGB once decoded.
let huge: Buffer;
beforeAll(async () => {
  huge = await sharp({
    create: { width: 12000, height: 12000, channels: 3, background: '#000' },
  })
    .png({ compressionLevel: 9 })
    .toBuffer();
}, 30_000);

describe('image inputs are checked before they are decoded', () => {
  it('an image sent to a JSON function is refused by signature, without decoding it', async () => {
    const gateway = await startGateway(guestFolder());
    const url = `${gateway.url}/functions/guest`;
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 3; i++) {
      expectError(await send(`${url}/echo`, image(huge)), 400, 'ERR_EXPORT_SIGNATURE');
    }
    // Decoding even one of them would take 432 MB (the issue saw 137 → 983 MB over three).
    const grownMb = (process.memoryUsage().rss - before) / 2 ** 20;
    expect(grownMb).toBeLessThan(150);
    // And JSON to an image function, the other way round.
    expectError(
      await send(`${url}/grayscale`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'ERR_EXPORT_SIGNATURE',
    );
  });

  it('an image declaring more than maxImagePixels (default 40 MP) is 413 from its header', async () => {
    const gateway = await startGateway(guestFolder());
    const before = process.memoryUsage().rss;
    const answer = await send(`${gateway.url}/functions/guest/grayscale`, image(huge));
    expectError(answer, 413, 'ERR_IMAGE_TOO_LARGE');
    expect(answer.body.error.message).toContain('12000x12000');
    expect((process.memoryUsage().rss - before) / 2 ** 20).toBeLessThan(150);
    expect((await moduleStatus(gateway, 'guest')).settings.maxImagePixels).toBe(40_000_000);
  });

  it("a sidecar's maxImagePixels applies to encoded and raw RGB images", async () => {
    const dir = guestFolder({ 'guest.json': JSON.stringify({ maxImagePixels: 3000 }) });
    const gateway = await startGateway(dir);
    const url = `${gateway.url}/functions/guest/grayscale`;
    // 64×48 = 3072 pixels: just over.
    expectError(await send(url, image(await pngOf(64, 48))), 413, 'ERR_IMAGE_TOO_LARGE');
    const raw = Buffer.alloc(64 * 48 * 3);
    expectError(
      await send(`${url}?width=64&height=48`, image(raw, 'application/octet-stream')),
      413,
      'ERR_IMAGE_TOO_LARGE',
    );
    // At or under the limit, it is served.
    const ok = await send(url, image(await pngOf(60, 50)));
    expect(ok.status).toBe(200);
    expect(await sharp(ok.body).metadata()).toMatchObject({ width: 60, height: 50 });
    // A header that cannot be read is a decode error, still before any thread sees it.
    const truncated = (await pngOf(64, 48)).subarray(0, 20);
    expectError(await send(url, image(truncated)), 400, 'ERR_IMAGE_DECODE');
  });

  it("the gateway's defaults set it for modules without a sidecar; a bad value is refused", async () => {
    const dir = guestFolder();
    writeFileSync(join(dir, 'strict.json'), JSON.stringify({ maxImagePixels: 0 }));
    copyFileSync(join(dir, 'guest.wasm'), join(dir, 'strict.wasm'));
    const gateway = await startGateway(dir, { defaults: { maxImagePixels: 100 } });
    expectError(
      await send(`${gateway.url}/functions/guest/grayscale`, image(await pngOf(16, 16))),
      413,
      'ERR_IMAGE_TOO_LARGE',
    );
    expect(await moduleStatus(gateway, 'strict')).toMatchObject({
      state: 'failed',
      error: { code: 'ERR_SIDECAR_INVALID' },
    });
  });
});
