// A bare worker_threads thread holding one instance of the guest: the floors wasmtube's Worker is
// compared with. workerData.channel picks how requests arrive:
// - 'port': messages { id, op, bytes, width?, height?, transfer? } on parentPort, answered with
//   { id, bytes }. op 'echo' runs the guest's echo, 'invert' its image filter, 'bounce' sends the
//   bytes straight back (no wasm: the transfer floor). Results move back (transfer) unless
//   `transfer: false`.
// - 'atomics': a SharedArrayBuffer channel (see atomics-channel.mjs), served with a blocking
//   Atomics.wait loop; every request runs the guest's echo. 'atomics-spin': the same, polling
//   without ever sleeping.
import { parentPort, workerData } from 'node:worker_threads';
import { loadRawGuest } from '../raw-guest.mjs';
import { serveAtomics } from './atomics-channel.mjs';

const call = loadRawGuest(workerData.wasm);

if (workerData.channel === 'atomics' || workerData.channel === 'atomics-spin') {
  parentPort.postMessage('ready');
  serveAtomics(workerData.sab, (bytes) => call('echo', bytes), {
    spin: workerData.channel === 'atomics-spin',
  });
  process.exit(0);
} else {
  parentPort.on('message', ({ id, op, bytes, width, height, transfer = true }) => {
    const result =
      op === 'bounce'
        ? bytes
        : op === 'invert'
          ? call('invert', bytes, width, height)
          : call(op, bytes);
    parentPort.postMessage({ id, bytes: result }, transfer ? [result.buffer] : []);
  });
  parentPort.postMessage('ready');
}
