// 9. The gateway over HTTP, and what watching it costs.
// - HTTP calls/s: POST /functions/guest/echo (64-byte JSON) with 16 requests in flight over
//   keep-alive connections, to a gateway on 127.0.0.1 serving the test fixture on 2 threads.
// - The same with a dashboard open: one GET /events client reading every event (stats each
//   second, a call-error per failed call) while the load runs. Measured in turns with the first,
//   so their ratio is what the event stream costs.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '../../dist/server/index.js';
import { FIXTURE, jsonPayload, throughputs } from '../lib.mjs';

export const title = 'Gateway over HTTP, with and without a dashboard watching';

export default async function gateway(ctx) {
  const dir = mkdtempSync(join(tmpdir(), 'wasmtube-bench-gateway-'));
  copyFileSync(FIXTURE, join(dir, 'guest.wasm'));
  const server = await createGateway({ dir, watch: false, defaults: { threads: 2 } });
  const url = await server.listen({ port: 0 });
  const body = JSON.stringify(jsonPayload(64));
  const call = async () => {
    const response = await fetch(`${url}/functions/guest/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`status ${response.status}`);
  };
  let watcher;
  const watch = async (on) => {
    if (on && !watcher) {
      const controller = new AbortController();
      const response = await fetch(`${url}/events`, { signal: controller.signal });
      const reading = (async () => {
        try {
          for await (const chunk of response.body) void chunk;
        } catch {
          // aborted
        }
      })();
      watcher = { controller, reading };
    } else if (!on && watcher) {
      watcher.controller.abort();
      await watcher.reading;
      watcher = undefined;
    }
  };
  try {
    if (ctx.want('http')) {
      const options = {
        inFlight: 16,
        durationMs: ctx.n(2000),
        warmupMs: 500,
        reps: ctx.quick ? 3 : 5,
      };
      const [plain, watched] = await throughputs(
        [
          async () => {
            await watch(false);
            return call();
          },
          async () => {
            await watch(true);
            return call();
          },
        ],
        options,
      );
      ctx.add('http', 'HTTP echo 64 B, 16 in flight', plain, 'calls/s');
      ctx.add('http-watched', 'the same, one GET /events client open', watched, 'calls/s');
    }
  } finally {
    await watch(false);
    await server.close({ timeoutMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  }
  return ctx.rows;
}
