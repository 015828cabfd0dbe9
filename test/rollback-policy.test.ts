import { describe, expect, it } from 'vitest';
import { FailureRate, ROLLBACK_DEFAULTS, RollbackWatch } from '../dist/supervisor/reload-policy.js';
import { seededRandom } from './seeded-random.js';

/**
 * Deploys `deploys` versions failing with probability `after`, each replacing one that served
 * `before.calls` calls failing with probability `before.rate`; counts rollbacks and the call
 * at which each came.
 */
function simulate(
  seed: number,
  before: { rate: number; calls: number },
  after: { rate: number; calls: number },
  deploys: number,
) {
  const random = seededRandom(seed);
  const at: number[] = [];
  for (let d = 0; d < deploys; d++) {
    const baseline = new FailureRate();
    for (let i = 0; i < before.calls; i++) baseline.record(random.next() < before.rate);
    const watch = new RollbackWatch(1, 'new', { compiled: null as never, hash: 'old' }, baseline, {
      ...ROLLBACK_DEFAULTS,
      minUptimeMs: Infinity,
    });
    for (let i = 1; i <= after.calls; i++) {
      if (watch.record(1, random.next() < after.rate)) {
        at.push(i);
        break;
      }
    }
  }
  return { rolledBack: at.length, worstAt: Math.max(0, ...at) };
}

describe('rollback by failure rate', () => {
  it('a version failing as often as its predecessor is (almost) never rolled back', () => {
    // The soak's guest: 8% of calls fail by design; versions live ~150 calls.
    expect(
      simulate(1, { rate: 0.08, calls: 150 }, { rate: 0.08, calls: 150 }, 3000).rolledBack,
    ).toBe(0);
    // A predecessor measured over few calls is a rough yardstick: at most 1 in 1,000 for that.
    expect(
      simulate(2, { rate: 0.08, calls: 25 }, { rate: 0.08, calls: 150 }, 3000).rolledBack,
    ).toBeLessThanOrEqual(3);
    expect(simulate(3, { rate: 0.2, calls: 500 }, { rate: 0.2, calls: 500 }, 1000).rolledBack).toBe(
      0,
    );
  });

  it('a version failing clearly more often is rolled back within a few dozen calls', () => {
    expect(simulate(4, { rate: 0.05, calls: 200 }, { rate: 1, calls: 200 }, 500)).toEqual({
      rolledBack: 500,
      worstAt: ROLLBACK_DEFAULTS.minCalls,
    });
    const regression = simulate(5, { rate: 0.05, calls: 200 }, { rate: 0.3, calls: 400 }, 500);
    expect(regression.rolledBack).toBeGreaterThanOrEqual(495);
    expect(simulate(6, { rate: 0, calls: 0 }, { rate: 1, calls: 50 }, 100).worstAt).toBe(20);
  });

  it('a rise within maxRateIncrease is tolerated however many calls show it', () => {
    expect(
      simulate(7, { rate: 0.05, calls: 5000 }, { rate: 0.1, calls: 5000 }, 50).rolledBack,
    ).toBe(0);
  });

  it('counts only calls of the watched version, inside its window', () => {
    const watch = new RollbackWatch(
      2,
      'new',
      { compiled: null as never, hash: 'old' },
      new FailureRate(),
      {
        ...ROLLBACK_DEFAULTS,
        minCalls: 1,
      },
    );
    expect(watch.record(1, true)).toBe(false); // the previous version's call
    expect(watch.outcomes.calls).toBe(0);
    expect(watch.record(2, true)).toBe(false); // one failure in one call: could be chance
    expect(watch.record(2, true)).toBe(true);
    expect(watch.outcomes.calls).toBe(2);
  });
});
