// isolation: 'call' in a Worker: 10,000 calls on several threads, traps and memory growth mixed
// in, never see another call's data; 'instance' does keep it; a hot-reloaded version takes its
// own snapshot. Guests: test/isolation_test (Rust, static mut) and the WAT isolation probe.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Worker } from '../dist/index.js';
import { fixture } from './helpers.js';
import { startWorker } from './pool-helpers.js';

const RUST = fixture('isolation_test');
const PROBE = fixture('isolation_probe');

/** One call of the mix: what it sends, and whether it must fail (a trap). */
function callOf(
  worker: Worker,
  i: number,
): Promise<{ fn: string; result?: Buffer; code?: string }> {
  const payload = Buffer.from(`SECRET-${i}-${'x'.repeat(i % 97)}`);
  const fn = i % 50 === 7 ? 'trap_after_keeping' : i % 20 === 3 ? 'grow' : 'remember';
  return worker.callFunction(fn, { bytes: payload }, { returns: 'bytes' }).then(
    (result) => ({ fn, result: result as Buffer }),
    (error: { code?: string }) => ({ fn, code: error.code }),
  );
}

async function runMix(
  worker: Worker,
  calls: number,
  onEach: (r: Awaited<ReturnType<typeof callOf>>) => void,
) {
  for (let start = 0; start < calls; start += 200) {
    const batch = Array.from({ length: Math.min(200, calls - start) }, (_, k) =>
      callOf(worker, start + k),
    );
    for (const r of await Promise.all(batch)) onEach(r);
  }
}

describe("a Worker with isolation: 'call'", () => {
  it.each([
    ['Rust static mut', RUST],
    ['WAT probe', PROBE],
  ])(
    '%s: 10,000 calls on 3 threads, with traps and memory growth, never see earlier data',
    async (_name, wasmFile) => {
      const worker = await startWorker({ wasmFile, threads: 3, isolation: 'call' });
      const seen = { remember: 0, grow: 0, trap: 0 };
      await runMix(worker, 10_000, ({ fn, result, code }) => {
        if (fn === 'trap_after_keeping') {
          expect(code).toBe('ERR_GUEST_TRAP');
          seen.trap++;
          return;
        }
        expect(code).toBeUndefined();
        expect(result!.length).toBe(0); // nothing a previous call kept
        seen[fn as 'remember' | 'grow']++;
      });
      expect(seen.trap).toBe(200);
      expect(seen.grow).toBeGreaterThan(400);
      const stats = worker.stats();
      expect(stats.threads.alive).toBe(3);
      expect(worker.exports().every((e) => e.isolation === 'call')).toBe(true);
    },
    120_000,
  );

  it("with 'instance', the same mix finds earlier payloads (state kept per thread)", async () => {
    const worker = await startWorker({ wasmFile: RUST, threads: 3, isolation: 'instance' });
    let leaked = 0;
    await runMix(worker, 1_000, ({ result }) => {
      if (result && result.toString().startsWith('SECRET-')) leaked++;
    });
    expect(leaked).toBeGreaterThan(500);
  }, 60_000);

  it('the WAT probe finds no trace of any earlier payload anywhere in memory', async () => {
    const worker = await startWorker({ wasmFile: PROBE, threads: 2, isolation: 'call' });
    const marker = (n: number) => Buffer.from(`Q${String(n).padStart(3, '0')}`); // 4 bytes
    for (let round = 0; round < 20; round++) {
      const writes = [];
      for (let k = 0; k < 30; k++) {
        const payload = Buffer.concat([marker(round), Buffer.from(`-${k}`)]);
        const fn = k % 10 === 0 ? 'trap_after_keeping' : k % 3 === 0 ? 'grow' : 'remember';
        writes.push(
          worker.callFunction(fn, { bytes: payload }, { returns: 'bytes' }).catch(() => null),
        );
      }
      await Promise.all(writes);
      const scans = await Promise.all(
        [0, 1, 2, 3].map(() =>
          worker.callFunction('scan', { bytes: marker(round) }, { returns: 'bytes' }),
        ),
      );
      for (const found of scans) expect((found as Buffer).readUInt32LE(0)).toBe(0);
    }
  }, 60_000);

  it('a hot-reloaded version takes its own snapshot and keeps isolating', async () => {
    const worker = await startWorker({
      wasmFile: PROBE,
      threads: 2,
      isolation: 'call',
      watch: false,
      requireExports: false,
    });
    const remember = (s: string) =>
      worker.callFunction(
        'remember',
        { bytes: Buffer.from(s) },
        { returns: 'bytes' },
      ) as Promise<Buffer>;
    expect((await remember('v1-a')).length).toBe(0);
    const result = await worker.reload(readFileSync(RUST));
    expect(result.to).toBe(1);
    for (let i = 0; i < 50; i++) expect((await remember(`v2-${i}`)).length).toBe(0);
    expect(worker.exports().every((e) => e.isolation === 'call')).toBe(true);
  }, 60_000);

  it('an unknown isolation is ERR_INVALID_ARGUMENT, before any thread starts', async () => {
    await expect(
      startWorker({ wasmFile: PROBE, isolation: 'thread' as never }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});
