// 5. The Extism JS SDK on an echo plugin written for its ABI (bench/guests/extism_echo.wat), in a
// worker (runInWorker: true) and in the foreground, with the same JSON payloads (stringified by
// the caller, parsed from the output). Beside it, wasmtube with a Wasmtube-ABI echo that does
// no work either (raw_echo.wat), so the guests are like for like: the Rust echo re-serialises its
// JSON, the Extism plugin only copies bytes.
import createPlugin from '@extism/extism';
import { Wasmtube, Worker } from '../../dist/index.js';
import { compileGuest } from '../guests/compile.mjs';
import { jsonPayload, latency, SIZES, sizeLabel } from '../lib.mjs';

export const title = 'Extism JS SDK vs wasmtube on do-nothing echo guests';

export default async function extism(ctx) {
  const extismEcho = await compileGuest('extism_echo');
  const rawEcho = await compileGuest('raw_echo');
  const plugins = {
    worker: await createPlugin({ wasm: [{ data: extismEcho }] }, { runInWorker: true }),
    foreground: await createPlugin({ wasm: [{ data: extismEcho }] }, { runInWorker: false }),
  };
  const worker = await Worker.start({ wasmBinary: rawEcho, threads: 1 });
  const bridge = Wasmtube.fromBinary(rawEcho);
  try {
    for (const size of SIZES) {
      const data = jsonPayload(size);
      const opts = ctx.latencyOptions(size, { calls: size >= 65536 ? 20 : undefined });
      const label = sizeLabel(size);
      for (const [mode, plugin] of Object.entries(plugins)) {
        if (!ctx.want(`${mode}.${size}`)) continue;
        ctx.add(
          `${mode}.${size}`,
          `Extism ${mode === 'worker' ? 'runInWorker' : 'foreground'}: echo ${label}`,
          await latency(async () => (await plugin.call('echo', JSON.stringify(data))).json(), opts),
          'µs',
        );
      }
      if (ctx.want(`wasmtube-worker-raw.${size}`)) {
        ctx.add(
          `wasmtube-worker-raw.${size}`,
          `wasmtube Worker 1 thread, raw_echo guest: echo ${label}`,
          await latency(() => worker.callFunction('echo', { data }), ctx.latencyOptions(size)),
          'µs',
        );
      }
      if (ctx.want(`wasmtube-bridge-raw.${size}`)) {
        ctx.add(
          `wasmtube-bridge-raw.${size}`,
          `wasmtube bridge in-process, raw_echo guest: echo ${label}`,
          await latency(() => bridge.callFunction('echo', { data }), ctx.latencyOptions(size)),
          'µs',
        );
      }
    }
  } finally {
    await worker.stop();
    await plugins.worker.close();
    await plugins.foreground.close();
  }
  return ctx.rows;
}
