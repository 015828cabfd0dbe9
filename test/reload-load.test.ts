import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReloadResult } from '../dist/index.js';
import { versionGuest, wat } from './guests.js';
import { nextEvent, startWorker } from './pool-helpers.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('hot reload under load', () => {
  it('serves every call correctly across good and broken deploys, versions never going back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtube-load-'));
    const file = join(dir, 'guest.wasm');
    const contentOf = new Map<string, number>(); // module hash → the v its `which` answers
    const guest = (v: number) => {
      const bytes = versionGuest(v);
      contentOf.set(sha256(bytes), v);
      return bytes;
    };
    writeFileSync(file, guest(1));
    const worker = await startWorker({ wasmFile: file, threads: 2 });
    const vOfVersion = new Map<number, number>([[0, 1]]);
    worker.on('reload', (r: ReloadResult) => vOfVersion.set(r.to, contentOf.get(r.hash)!));

    let running = true;
    let failures = 0;
    let backwards = 0;
    const seen: { v: number; version: number }[] = [];
    const client = async () => {
      let last = 0;
      while (running) {
        try {
          const { result, info } = await worker.callFunctionWithInfo<{ v: number }>('which', {
            data: null,
          });
          if (info.version < last) backwards++;
          last = info.version;
          seen.push({ v: result.v, version: info.version });
        } catch {
          failures++;
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);

    const good = versionGuest(99);
    const broken = [
      Buffer.from('garbage, not wasm'),
      good.subarray(0, good.length - 5),
      wat(
        '(module (memory (export "memory") 1) (func (export "echo") (param i32 i32) (result i32) (local.get 1)))',
      ),
    ];
    let expectedReloads = 0;
    for (let step = 0; step < 15; step++) {
      const outcome = Promise.race([
        nextEvent(worker, 'reload'),
        nextEvent(worker, 'reload-error'),
      ]);
      if (step % 3 === 2) {
        writeFileSync(file, broken[((step / 3) % broken.length) | 0]!);
      } else if (step % 2 === 0) {
        writeFileSync(file, guest(100 + step)); // in place
        expectedReloads++;
      } else {
        writeFileSync(join(dir, 'next.tmp'), guest(100 + step)); // rename over it
        renameSync(join(dir, 'next.tmp'), file);
        expectedReloads++;
      }
      await outcome;
      await new Promise((resolve) => setTimeout(resolve, 40)); // let traffic run on it
    }
    running = false;
    await Promise.all(clients);

    expect(failures).toBe(0);
    expect(backwards).toBe(0);
    expect(worker.version).toBe(expectedReloads);
    expect(seen.length).toBeGreaterThan(1000);
    const wrong = seen.filter(({ v, version }) => vOfVersion.get(version) !== v);
    expect(wrong).toEqual([]);
    expect(new Set(seen.map((s) => s.version)).size).toBeGreaterThan(expectedReloads / 2);
    expect(worker.stats().failed).toBe(0);
  });
});
