import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { expectedGray, gradient, jpegOf, pngOf } from './helpers.js';
import { callJson, guestFolder, send, startGateway } from './server-helpers.js';

const post = (url: string, body: string | Uint8Array, headers: Record<string, string>) =>
  send(url, { method: 'POST', body, headers });

describe('POST /functions/:module/:fn', () => {
  it('JSON body in, JSON result out, with the version, hash and timing headers', async () => {
    const gateway = await startGateway(guestFolder());
    const answer = await callJson(gateway, 'guest', 'echo', { args: 'World', n: [1, 2] });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ args: 'World', n: [1, 2] });
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(answer.headers.get('x-wasmtube-module')).toBe('guest');
    expect(answer.headers.get('x-wasmtube-version')).toBe('1');
    expect(answer.headers.get('x-wasmtube-module-hash')).toBe(gateway.modules.get('guest')!.hash);
    expect(answer.headers.get('server-timing')).toMatch(/^queue;dur=[\d.]+, run;dur=[\d.]+$/);
  });

  it('JSON scalars come back as JSON, and no body is a null input', async () => {
    const gateway = await startGateway(guestFolder());
    expect((await callJson(gateway, 'guest', 'echo', 'a string')).body).toBe('a string');
    expect((await callJson(gateway, 'guest', 'echo', 42)).body).toBe(42);
    const none = await callJson(gateway, 'guest', 'echo');
    expect(none.status).toBe(200);
    expect(none.body).toBeNull();
    expect((await callJson(gateway, 'guest', 'count')).body).toEqual({ count: 1 });
  });

  it('an application/octet-stream body is passed as bytes and answered as bytes', async () => {
    const gateway = await startGateway(guestFolder());
    const answer = await post(`${gateway.url}/functions/guest/echo`, '{"b":2}', {
      'content-type': 'application/octet-stream',
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/octet-stream');
    expect(answer.body.toString()).toBe('{"b":2}');
    const asJson = await post(`${gateway.url}/functions/guest/echo?format=json`, '{"b":2}', {
      'content-type': 'application/octet-stream',
    });
    expect(asJson.body).toEqual({ b: 2 });
  });

  it('a PNG body is decoded and passed as an image; the result is JSON by default', async () => {
    const gateway = await startGateway(guestFolder());
    const answer = await post(`${gateway.url}/functions/guest/image_size`, await pngOf(33, 17), {
      'content-type': 'image/png',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ width: 33, height: 17 });
  });

  it('Accept: image/png returns the result image as a PNG (an image round trip)', async () => {
    const gateway = await startGateway(guestFolder());
    const answer = await post(`${gateway.url}/functions/guest/grayscale`, await pngOf(40, 30), {
      'content-type': 'image/png',
      accept: 'image/png',
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/png');
    const { data, info } = await sharp(answer.body).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([40, 30, 3]);
    expect(data.equals(expectedGray(gradient(40, 30)))).toBe(true);
  });

  it('?format= picks the result encoding; JPEG and WebP inputs are decoded too', async () => {
    const gateway = await startGateway(guestFolder());
    const url = `${gateway.url}/functions/guest/invert`;
    for (const [format, type] of [
      ['png', 'image/png'],
      ['jpeg', 'image/jpeg'],
      ['webp', 'image/webp'],
    ]) {
      const answer = await post(`${url}?format=${format}`, await jpegOf(16, 8), {
        'content-type': 'image/jpeg',
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe(type);
      expect((await sharp(answer.body).metadata()).format).toBe(format);
    }
    const webp = await sharp(gradient(9, 9), { raw: { width: 9, height: 9, channels: 3 } })
      .webp({ lossless: true })
      .toBuffer();
    const size = await post(`${gateway.url}/functions/guest/image_size`, webp, {
      'content-type': 'image/webp',
    });
    expect(size.body).toEqual({ width: 9, height: 9 });
  });

  it('raw RGB as application/octet-stream with ?width&height is an image', async () => {
    const gateway = await startGateway(guestFolder());
    const rgb = gradient(5, 4);
    const answer = await post(
      `${gateway.url}/functions/guest/grayscale?width=5&height=4&format=bytes`,
      rgb,
      { 'content-type': 'application/octet-stream' },
    );
    expect(answer.status).toBe(200);
    expect(Buffer.from(answer.body).equals(expectedGray(rgb))).toBe(true);
  });

  it('a JSON call from a client that also accepts images still gets JSON', async () => {
    const gateway = await startGateway(guestFolder());
    const answer = await callJson(gateway, 'guest', 'echo', { a: 1 }, { accept: 'image/png, */*' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ a: 1 });
  });
});
