// 1. The floor: the wasm call in the calling thread, no threads. The Wasmtube bridge with JSON
// payloads (and with raw bytes, to separate the JSON codec from the rest of the bridge), and the
// hand-rolled raw floor: write bytes, call the export, copy the result out.
import { Wasmtube } from '../../dist/index.js';
import { loadRawGuest } from '../raw-guest.mjs';
import { batch, batchSync, FIXTURE, jsonPayload, SIZES, sizeLabel } from '../lib.mjs';

export const title = 'Floor: the wasm call in the calling thread';

export default async function floor(ctx) {
  const bridge = Wasmtube.fromFile(FIXTURE);
  const raw = loadRawGuest(FIXTURE);
  const encoder = new TextEncoder();
  for (const size of SIZES) {
    const data = jsonPayload(size);
    const bytes = encoder.encode(JSON.stringify(data));
    const big = size >= 65536;
    const opts = { iterations: ctx.n(big ? 300 : 3000), warmup: ctx.n(big ? 100 : 3000), reps: 7 };
    const label = sizeLabel(size);
    if (ctx.want(`raw.${size}`)) {
      ctx.add(
        `raw.${size}`,
        `raw: write + echo + copy out, ${label}, no JSON`,
        batchSync(() => raw('echo', bytes), { ...opts, iterations: opts.iterations * 3 }),
        'µs',
      );
    }
    if (ctx.want(`bridge-bytes.${size}`)) {
      ctx.add(
        `bridge-bytes.${size}`,
        `Wasmtube bridge: echo { bytes } ${label}`,
        await batch(() => bridge.callFunction('echo', { bytes }), opts),
        'µs',
      );
    }
    if (ctx.want(`bridge.${size}`)) {
      ctx.add(
        `bridge.${size}`,
        `Wasmtube bridge: echo { data } ${label} JSON`,
        await batch(() => bridge.callFunction('echo', { data }), opts),
        'µs',
      );
    }
  }
  return ctx.rows;
}
