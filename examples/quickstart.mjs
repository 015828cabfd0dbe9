// Calls the bundled test guest (test/wasm_test, built to
// test/fixtures/wasm_test.wasm) with JSON and with a real PNG, in-process.
// Run with `npm run quickstart` (which builds dist/ first). The main job, `npm start`, serves
// the example guests over HTTP instead (see the README).
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Wasmtube } from '../dist/index.js';

const wasmFile =
  process.argv[2] ?? fileURLToPath(new URL('../test/fixtures/wasm_test.wasm', import.meta.url));
const bridge = Wasmtube.fromFile(wasmFile, { maxMemoryMb: 256 });

console.log(
  'exports:',
  bridge
    .exports()
    .map((e) => `${e.name}${e.type}`)
    .join(' '),
);
console.log('echo →', await bridge.callFunction('echo', { data: { args: 'Hello World!' } }));
console.log('count →', await bridge.callFunction('count', { data: null }));
console.log('count →', await bridge.callFunction('count', { data: null }));

// A real PNG: a 640x360 colour gradient encoded by sharp, decoded again by the bridge.
const width = 640;
const height = 360;
const pixels = Buffer.alloc(width * height * 3);
for (let i = 0; i < width * height; i++) {
  pixels[i * 3] = ((i % width) * 255) / width;
  pixels[i * 3 + 1] = (Math.floor(i / width) * 255) / height;
  pixels[i * 3 + 2] = 128;
}
const png = await sharp(pixels, { raw: { width, height, channels: 3 } })
  .png()
  .toBuffer();
console.log('image_size(png) →', await bridge.callFunction('image_size', { image: png }));

const gray = await bridge.callFunction('grayscale', { image: png }, { returns: 'png' });
const out = join(tmpdir(), 'wasmtube-grayscale.png');
await writeFile(out, gray);
console.log(`grayscale(png) → ${gray.length}-byte PNG written to ${out}`);

try {
  await bridge.callFunction('trap', { data: null });
} catch (error) {
  console.log(`trap → ${error.code}: ${error.message}`);
}
console.log(
  'count after the trap (fresh instance) →',
  await bridge.callFunction('count', { data: null }),
);
