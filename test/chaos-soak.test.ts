import { describe, expect, it, onTestFailed } from 'vitest';
import {
  CALM,
  formatFigures,
  NO_VIOLATIONS,
  runChaosSoak,
  violations,
  type ChaosSoakFigures,
} from '../scripts/chaos-soak.mjs';

// The chaos soak (scripts/chaos-soak.mjs) at 3,000 calls; `npm run soak` runs it at 30,000.
const SEED = 20_250_611;

/** Prints the whole table when the test fails: counts per category, not only the first diff. */
function reportOnFailure(run: () => ChaosSoakFigures | undefined): void {
  onTestFailed(() => {
    const figures = run();
    if (figures) console.log(`chaos soak, seed ${figures.seed}:\n${formatFigures(figures)}`);
  });
}

describe('chaos soak', () => {
  it('harness check: echoes beside traps, no deploys, every healthy call is served', async () => {
    let figures: ChaosSoakFigures | undefined;
    reportOnFailure(() => figures);
    figures = await runChaosSoak({ seed: SEED, calls: 3000, ...CALM });
    expect(violations(figures)).toEqual(NO_VIOLATIONS);
    expect(figures.byKind.trap.failed).toBeGreaterThan(0);
    expect(figures.byKind.echo.ok).toBe(figures.healthy);
  }, 60_000);

  it('3,000 calls among crashes, timeouts, memory bombs, traps and good and broken deploys: a fault fails only the call that caused it', async () => {
    let figures: ChaosSoakFigures | undefined;
    reportOnFailure(() => figures);
    figures = await runChaosSoak({ seed: SEED, calls: 3000 });
    expect(violations(figures)).toEqual(NO_VIOLATIONS);
    // Every kind of fault happened, and only its own call failed, with its own code.
    for (const kind of ['trap', 'spin', 'bomb', 'crash'] as const) {
      expect(figures.byKind[kind].failed, kind).toBeGreaterThan(0);
      expect(figures.byKind[kind].ok, kind).toBe(0);
    }
    expect(figures.settled).toBe(3000);
    expect(figures.deploys.ok).toBeGreaterThan(0);
    expect(figures.deploys.rejected).toBeGreaterThan(0);
  }, 90_000);
});
