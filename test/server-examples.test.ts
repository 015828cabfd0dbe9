import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { expectedGray, gradient, pngOf } from './helpers.js';
import { callJson, send, startGateway } from './server-helpers.js';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

// The README's curl lines, against the bundled examples folder (served by `npm start`).
describe('the examples folder as a deploy folder', () => {
  it('serves caesar (a component), echo, cipher (WASI, SHIFT=5 from cipher.json) and filters', async () => {
    const gateway = await startGateway(EXAMPLES, { watch: false });
    const modules = (await send(`${gateway.url}/functions`)).body.modules;
    expect(modules.map((m: { name: string; state: string }) => [m.name, m.state])).toEqual([
      ['caesar', 'serving'],
      ['cipher', 'serving'],
      ['echo', 'serving'],
      ['filters', 'serving'],
    ]);
    expect(modules[1].wasi).toBe(true);
    expect((await callJson(gateway, 'caesar', 'encrypt', { message: 'hello world' })).body).toBe(
      'khoor zruog',
    );

    expect((await callJson(gateway, 'echo', 'echo', { hello: 'world' })).body).toEqual({
      hello: 'world',
    });
    expect((await callJson(gateway, 'echo', 'hello', { name: 'Ada' })).body).toEqual({
      message: 'Hello, Ada!',
    });
    expect((await callJson(gateway, 'echo', 'hello')).body).toEqual({ message: 'Hello, World!' });

    const secret = await callJson(gateway, 'cipher', 'encrypt', { text: 'hello world' });
    expect(secret.body).toEqual({ text: 'mjqqt btwqi', shift: 5 });
    expect((await callJson(gateway, 'cipher', 'decrypt', secret.body)).body).toEqual({
      text: 'hello world',
      shift: 5,
    });
  });

  it('filters: a PNG round trip through grayscale, and blur keeps the size', async () => {
    const gateway = await startGateway(EXAMPLES, { watch: false });
    const png = await pngOf(64, 48);
    const gray = await send(`${gateway.url}/functions/filters/grayscale`, {
      method: 'POST',
      body: png,
      headers: { 'content-type': 'image/png', accept: 'image/png' },
    });
    expect(gray.status).toBe(200);
    expect(gray.headers.get('content-type')).toBe('image/png');
    const pixels = await sharp(gray.body).raw().toBuffer();
    expect(pixels.equals(expectedGray(gradient(64, 48)))).toBe(true);

    for (const filter of ['blur', 'sepia', 'invert']) {
      const answer = await send(`${gateway.url}/functions/filters/${filter}?format=webp`, {
        method: 'POST',
        body: png,
        headers: { 'content-type': 'image/png' },
      });
      expect(answer.status).toBe(200);
      expect(await sharp(answer.body).metadata()).toMatchObject({
        format: 'webp',
        width: 64,
        height: 48,
      });
    }
  });
});
