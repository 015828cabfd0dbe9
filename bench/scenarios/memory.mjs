// 8. Memory: RSS per idle worker thread. Each measurement runs in a fresh child process
// (memory-child.mjs): RSS after loading everything, then after starting N idle threads, each
// holding one instance of the guest. Per thread = the RSS growth from 1 to 8 threads / 7, which
// leaves out what is paid once (compiling the module, piscina, the first thread's code).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const title = 'RSS per idle thread (child processes)';

const CHILD = fileURLToPath(new URL('./memory-child.mjs', import.meta.url));
const KINDS = [
  ['wasmtube', 'wasmtube Worker thread (idle, one instance)'],
  ['piscina', 'piscina thread by hand (idle, one instance)'],
  ['bare', 'bare worker_threads thread (idle, one instance)'],
];
const COUNTS = [1, 8];

export default async function memory(ctx) {
  for (const [kind, label] of KINDS) {
    if (!ctx.want(kind)) continue;
    const reps = ctx.quick ? 1 : 3;
    const perThread = [];
    const first = [];
    for (let r = 0; r < reps; r++) {
      const [one, eight] = COUNTS.map((n) => measureChild(kind, n));
      perThread.push((eight.after - one.after) / (COUNTS[1] - COUNTS[0]));
      first.push(one.after - one.before);
    }
    const sorted = [...perThread].sort((a, b) => a - b);
    ctx.add(
      kind,
      `RSS per ${label}`,
      { value: sorted[sorted.length >> 1], min: sorted[0], max: sorted[sorted.length - 1] },
      'MiB',
      `first thread +${median(first).toFixed(1)} MiB (incl. one-time costs` +
        `${kind === 'wasmtube' ? ' and the warm spare thread' : ''})`,
    );
  }
  return ctx.rows;
}

function measureChild(kind, threads) {
  const out = execFileSync(process.execPath, ['--expose-gc', CHILD, kind, String(threads)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop());
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}
