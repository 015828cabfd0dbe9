import { describe, expect, it } from 'vitest';
import { DispatchWidth } from '../dist/supervisor/dispatch-width.js';

describe('DispatchWidth', () => {
  it('uses every thread until it knows the calls, and while they run long', () => {
    const width = new DispatchWidth(4, 2);
    expect(width.narrow).toBe(1); // 2 cores: one beside the main thread
    expect(width.width).toBe(4);
    width.observe(0.2);
    expect(width.width).toBe(4);
  });

  it('narrows to the cores beside the main thread for calls of a few microseconds', () => {
    const width = new DispatchWidth(4, 3);
    for (let i = 0; i < 50; i++) width.observe(0.004);
    expect(width.width).toBe(2);
    // A stuck thread widens it at once; unstuck, it narrows again.
    expect(width.setStuck(true)).toBe(true);
    expect(width.width).toBe(4);
    expect(width.setStuck(false)).toBe(true);
    expect(width.width).toBe(2);
    // Calls getting longer widen it as the average follows them.
    for (let i = 0; i < 50; i++) width.observe(0.1);
    expect(width.width).toBe(4);
  });

  it('stays narrow when only some tiny calls run long (preempted on a busy machine)', () => {
    const width = new DispatchWidth(2, 2);
    // 60% run 4 µs, 40% 16 µs (their mean, 8.8 µs, is above the threshold): most are tiny.
    for (let i = 0; i < 200; i++) width.observe(i % 5 < 3 ? 0.004 : 0.016);
    expect(width.width).toBe(1);
    // Once most calls run long, they spread.
    for (let i = 0; i < 200; i++) width.observe(i % 5 < 3 ? 0.012 : 0.004);
    expect(width.width).toBe(2);
  });

  it('never narrows below one thread, nor where the cores suffice', () => {
    expect(new DispatchWidth(2, 1).narrow).toBe(1);
    const roomy = new DispatchWidth(3, 16);
    for (let i = 0; i < 10; i++) roomy.observe(0.001);
    expect(roomy.width).toBe(3);
  });
});
