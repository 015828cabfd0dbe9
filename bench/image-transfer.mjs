// How much a 1080p RGB image costs to get to a worker thread and back, and what wasmtube adds.
// Run: npm run build && node bench/image-transfer.mjs
import { Worker as NodeWorker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Wasmtube, Worker } from '../dist/index.js';
import { measure } from './lib.mjs';

const WASM = fileURLToPath(new URL('../test/fixtures/wasm_test.wasm', import.meta.url));
const W = 1920, H = 1080, BYTES = W * H * 3;
const image = new Uint8Array(BYTES).map((_, i) => i & 0xff);

// A bare thread that sends back what it gets, by clone or by transfer.
const echoThread = new NodeWorker(
  `const { parentPort } = require('node:worker_threads');
   parentPort.on('message', ({ bytes, transfer }) =>
     parentPort.postMessage(bytes, transfer ? [bytes.buffer] : []));`,
  { eval: true },
);
const roundTrip = (transfer) =>
  new Promise((resolve) => {
    echoThread.once('message', resolve);
    const bytes = transfer ? new Uint8Array(image) : image;
    echoThread.postMessage({ bytes, transfer }, transfer ? [bytes.buffer] : []);
  });

const bridge = Wasmtube.fromFile(WASM);
const worker = await Worker.start({ wasmFile: WASM, threads: 1 });
const dst = new Uint8Array(BYTES);
const opts = { iterations: 30, warmup: 10, reps: 5 };

const rows = [
  ['one memcpy (Uint8Array.prototype.set)', await measure(() => dst.set(image), opts)],
  ['bare thread round trip, structured clone both ways', await measure(() => roundTrip(false), opts)],
  ['bare thread round trip, copy + transfer both ways', await measure(() => roundTrip(true), opts)],
  ['in-process bridge: image_size (in only)', await measure(() => bridge.callFunction('image_size', { image, width: W, height: H }), opts)],
  ['in-process bridge: invert, RGB in and out', await measure(() => bridge.callFunction('invert', { image, width: W, height: H }, { returns: 'rgb' }), opts)],
  ['Worker: image_size (in only)', await measure(() => worker.callFunction('image_size', { image, width: W, height: H }), opts)],
  ['Worker: invert, RGB in and out', await measure(() => worker.callFunction('invert', { image, width: W, height: H }, { returns: 'rgb' }), opts)],
];
for (const [name, us] of rows) console.log(`${(us / 1000).toFixed(3).padStart(8)} ms  ${name}`);
await worker.stop();
await echoThread.terminate();
