import { describe, expect, it, vi } from 'vitest';
import { StagingBuffers } from '../dist/supervisor/staging-buffers.js';

const KIB = 1024;

describe('StagingBuffers', () => {
  it('reuses a buffer given back for the next copy of that size, with the new bytes', () => {
    const pool = new StagingBuffers(4 * 1024 * KIB);
    const first = pool.copyOf(new Uint8Array(512 * KIB).fill(1));
    pool.give(first.buffer as ArrayBuffer);
    expect(pool.bytes).toBe(512 * KIB);
    const second = pool.copyOf(new Uint8Array(512 * KIB).fill(2));
    expect(second.buffer).toBe(first.buffer);
    expect(second.every((b) => b === 2)).toBe(true);
    expect(pool.bytes).toBe(0);
  });

  it('keeps no small buffers, at most PER_SIZE of one size, and never more than its bytes', () => {
    const pool = new StagingBuffers(1024 * KIB);
    pool.give(new ArrayBuffer(16 * KIB));
    expect(pool.bytes).toBe(0);
    pool.give(new ArrayBuffer(2048 * KIB)); // larger than the whole pool
    expect(pool.bytes).toBe(0);
    const roomy = new StagingBuffers(64 * 1024 * KIB);
    for (let i = 0; i < StagingBuffers.PER_SIZE + 3; i++) roomy.give(new ArrayBuffer(256 * KIB));
    expect(roomy.bytes).toBe(StagingBuffers.PER_SIZE * 256 * KIB);
  });

  it('makes room by dropping the sizes used longest ago', () => {
    const pool = new StagingBuffers(1024 * KIB);
    pool.give(new ArrayBuffer(256 * KIB));
    pool.give(new ArrayBuffer(300 * KIB));
    pool.copyOf(new Uint8Array(256 * KIB)); // 256 KiB is now the most recently used size
    pool.give(new ArrayBuffer(256 * KIB));
    pool.give(new ArrayBuffer(700 * KIB)); // needs the 300 KiB buffer's room, not the 256's
    expect(pool.bytes).toBe(956 * KIB);
    const reused = pool.copyOf(new Uint8Array(256 * KIB));
    expect(reused.buffer.byteLength).toBe(256 * KIB);
    expect(pool.bytes).toBe(700 * KIB);
  });

  it('lets go of sizes not used for IDLE_MS', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    try {
      const pool = new StagingBuffers(4 * 1024 * KIB);
      pool.give(new ArrayBuffer(256 * KIB));
      pool.give(new ArrayBuffer(512 * KIB));
      vi.advanceTimersByTime(StagingBuffers.IDLE_MS / 2);
      pool.copyOf(new Uint8Array(512 * KIB)); // used: kept for later
      pool.give(new ArrayBuffer(512 * KIB));
      vi.advanceTimersByTime(StagingBuffers.IDLE_MS / 2 + 1);
      expect(pool.bytes).toBe(512 * KIB);
      vi.advanceTimersByTime(StagingBuffers.IDLE_MS * 2);
      expect(pool.bytes).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
