// 9. WebAssembly components: the Caesar cipher as a component (examples/caesar.wasm, string in,
// string out, typed call and JSON) against the same cipher as a core module through the bridge
// (examples/cipher.wasm: JSON in and out, the shift from WASI, a host log call per call, as the
// component's audit-log), in-process and through a 1-thread Worker; and the time to load each
// (component: transpile + compile + instantiate, fresh and from the per-content cache).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Wasmtube, Worker } from '../../dist/index.js';
import { batch, latency } from '../lib.mjs';

export const title = 'Components: a WIT function vs the same logic as a core function';

const example = (name) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const COMPONENT = example('caesar.wasm');
const CORE = example('cipher.wasm');
const MESSAGE = 'hello world, this is a benchmark message';

const componentOptions = () => ({
  wasi: { env: { SHIFT_AMOUNT: '3' } },
  hostFunctions: { 'example:cipher/audit-log': { log: () => undefined } },
});
const coreOptions = () => ({
  wasi: { env: { SHIFT: '3' } },
  hostFunctions: { wasmtube: { log: { params: ['string'], fn: () => undefined } } },
});

/** The component's bytes with a custom section that makes them new content (no cache hit). */
function freshComponent(bytes, n) {
  const name = Buffer.from('wasmtube-bench');
  const payload = Buffer.from(String(n));
  const content = Buffer.concat([Buffer.from([name.length]), name, payload]);
  return Buffer.concat([bytes, Buffer.from([0, content.length]), content]);
}

const WORKER_LABELS = {
  'worker.core': 'core cipher, encrypt { data: { text } } (JSON)',
  'worker.component': "component, call('encrypt', [message])",
  'worker.component-json': 'component, encrypt { data: { message } } (JSON)',
};

export default async function components(ctx) {
  const component = await Wasmtube.load(COMPONENT, componentOptions());
  const core = Wasmtube.fromFile(CORE, coreOptions());
  const opts = { iterations: ctx.n(3000), warmup: ctx.n(3000), reps: 7 };
  if (ctx.want('bridge.core')) {
    ctx.add(
      'bridge.core',
      'in-process: core cipher, encrypt { data: { text } } (JSON)',
      await batch(() => core.callFunction('encrypt', { data: { text: MESSAGE } }), opts),
      'µs',
    );
  }
  if (ctx.want('bridge.component')) {
    ctx.add(
      'bridge.component',
      "in-process: component, call('encrypt', [message])",
      await batch(() => component.call('encrypt', [MESSAGE]), opts),
      'µs',
    );
  }
  if (ctx.want('bridge.component-json')) {
    ctx.add(
      'bridge.component-json',
      'in-process: component, encrypt { data: { message } } (JSON)',
      await batch(() => component.callFunction('encrypt', { data: { message: MESSAGE } }), opts),
      'µs',
    );
  }
  for (const [id, wasmFile, options, call] of [
    [
      'worker.core',
      CORE,
      coreOptions(),
      (w) => w.callFunction('encrypt', { data: { text: MESSAGE } }),
    ],
    ['worker.component', COMPONENT, componentOptions(), (w) => w.call('encrypt', [MESSAGE])],
    [
      'worker.component-json',
      COMPONENT,
      componentOptions(),
      (w) => w.callFunction('encrypt', { data: { message: MESSAGE } }),
    ],
  ]) {
    if (!ctx.want(id)) continue;
    const worker = await Worker.start({ wasmFile, threads: 1, watch: false, ...options });
    try {
      ctx.add(
        id,
        `Worker 1 thread, 1 in flight: ${WORKER_LABELS[id]}`,
        await latency(() => call(worker), ctx.latencyOptions(64)),
        'µs',
      );
    } finally {
      await worker.stop();
    }
  }
  const loads = { iterations: ctx.n(20), warmup: ctx.n(3), reps: 5 };
  if (ctx.want('load.core')) {
    ctx.add(
      'load.core',
      'load: core module (compile + instantiate)',
      await batch(() => Wasmtube.fromFile(CORE, coreOptions()), loads),
      'µs',
    );
  }
  const bytes = readFileSync(COMPONENT);
  if (ctx.want('load.component')) {
    let n = 0;
    ctx.add(
      'load.component',
      'load: component, new content (transpile + compile + instantiate)',
      await batch(() => Wasmtube.load(freshComponent(bytes, n++), componentOptions()), loads),
      'µs',
    );
  }
  if (ctx.want('load.component-cached')) {
    ctx.add(
      'load.component-cached',
      'load: component, same content again (instantiate only)',
      await batch(() => Wasmtube.load(bytes, componentOptions()), loads),
      'µs',
    );
  }
  return ctx.rows;
}
