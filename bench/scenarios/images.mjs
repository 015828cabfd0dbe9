// 6. A 1920×1080 RGB image (6 MB) through `image_size` (in only) and `invert` (RGB in and out,
// returns: 'rgb'), in-process and via a Worker, against the floors: one memcpy of the image,
// a bare thread round trip by structured clone and by copy + transfer (the "transfer there and
// back" floor: one copy, then the buffer moves both ways), and a bare thread doing the same
// invert by hand (copy + transfer in, into wasm memory, invert, copy out, transfer back).
// The `-into` rows pass `resultBuffer`, so results land in one warm buffer instead of a fresh one;
// `-shared` passes image and resultBuffer in SharedArrayBuffers, which threads use in place.
// (Replaces the first benchmark, bench/image-transfer.mjs.)
import { Wasmtube, Worker } from '../../dist/index.js';
import { FIXTURE, IMAGE, latency, rgbImage } from '../lib.mjs';
import { startPortThread } from '../threads/bare-client.mjs';
import { loadRawGuest } from '../raw-guest.mjs';

export const title = '1080p RGB image round trips';

export default async function images(ctx) {
  const { width, height } = IMAGE;
  const image = rgbImage(IMAGE);
  const dst = new Uint8Array(image.length);
  const out = new Uint8Array(image.length); // resultBuffer: one warm buffer for every result
  const sharedImage = new Uint8Array(new SharedArrayBuffer(image.length));
  sharedImage.set(image);
  const sharedOut = new Uint8Array(new SharedArrayBuffer(image.length));
  const bridge = Wasmtube.fromFile(FIXTURE);
  const worker = await Worker.start({ wasmFile: FIXTURE, threads: 1, watch: false });
  const thread = await startPortThread();
  const opts = { calls: ctx.n(100), warmup: ctx.n(20), reps: 5 };
  const raw = loadRawGuest(FIXTURE);
  const cases = [
    ['memcpy', 'one memcpy (Uint8Array.prototype.set), 6 MB', () => dst.set(image)],
    [
      'raw-invert',
      'raw floor in-process: write + invert + copy out (guest time)',
      () => raw('invert', image, width, height),
    ],
    [
      'bare-clone',
      'bare thread round trip, structured clone both ways',
      () => thread.call('bounce', image, { transfer: false }),
    ],
    [
      'bare-transfer',
      'bare thread round trip, copy + transfer both ways',
      () => thread.call('bounce', new Uint8Array(image), { transfer: true }),
    ],
    [
      'bare-invert',
      'bare thread: copy + transfer, wasm invert, transfer back',
      () => thread.call('invert', new Uint8Array(image), { width, height, transfer: true }),
    ],
    [
      'bridge-size',
      'in-process bridge: image_size (in only)',
      () => bridge.callFunction('image_size', { image, width, height }),
    ],
    [
      'bridge-invert',
      "in-process bridge: invert, RGB in and out ('rgb')",
      () => bridge.callFunction('invert', { image, width, height }, { returns: 'rgb' }),
    ],
    [
      'bridge-invert-into',
      'in-process bridge: invert into a reused resultBuffer',
      () =>
        bridge.callFunction(
          'invert',
          { image, width, height },
          { returns: 'rgb', resultBuffer: out },
        ),
    ],
    [
      'worker-size',
      'Worker: image_size (in only)',
      () => worker.callFunction('image_size', { image, width, height }),
    ],
    [
      'worker-invert',
      "Worker: invert, RGB in and out ('rgb')",
      () => worker.callFunction('invert', { image, width, height }, { returns: 'rgb' }),
    ],
    [
      'worker-invert-into',
      'Worker: invert into a reused resultBuffer',
      () =>
        worker.callFunction(
          'invert',
          { image, width, height },
          { returns: 'rgb', resultBuffer: out },
        ),
    ],
    [
      'worker-invert-shared',
      'Worker: invert, image and resultBuffer in SharedArrayBuffers (no copy outside the thread)',
      () =>
        worker.callFunction(
          'invert',
          { image: sharedImage, width, height },
          { returns: 'rgb', resultBuffer: sharedOut },
        ),
    ],
  ];
  try {
    for (const [id, label, fn] of cases) {
      if (!ctx.want(id)) continue;
      const result = await latency(fn, opts);
      ctx.add(id, label, toMs(result), 'ms');
    }
  } finally {
    await worker.stop();
    await thread.terminate();
  }
  return ctx.rows;
}

function toMs(result) {
  const out = { ...result };
  for (const key of ['value', 'p50', 'p99', 'min', 'max']) out[key] = result[key] / 1000;
  return out;
}
