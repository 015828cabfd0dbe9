/** Types of scripts/chaos-soak.mjs (the chaos soak, shared by `npm run soak` and its test). */

/** A function of the chaos guest (test/fixtures/wat/chaos.wat) a call may run. */
export type ChaosKind = 'echo' | 'abort' | 'trap' | 'spin' | 'bomb' | 'crash';
export const KINDS: readonly ChaosKind[];
/** The codes each faulty kind may fail with. */
export const EXPECTED_CODES: Record<Exclude<ChaosKind, 'echo'>, string[]>;
/** Share of calls of each faulty kind: crash, spin, bomb, abort 1% each, trap 5%; the rest are echoes. */
export const DEFAULT_MIX: Partial<Record<Exclude<ChaosKind, 'echo'>, number>>;
/** Traps beside the echoes and no deploys: the harness check that passes without the fix. */
export const CALM: Pick<ChaosSoakOptions, 'mix' | 'deployEveryMs'>;

export interface ChaosSoakOptions {
  /** Seed of the call plan and the broken bytes. Default: 1. */
  seed?: number;
  /** Calls to make. Default: 3000. */
  calls?: number;
  /** Calls in flight at once. Default: 32. */
  concurrency?: number;
  /** The worker's threads. Default: 2. */
  threads?: number;
  /** The worker's timeoutMs (what ends a `spin`). Default: 200. */
  timeoutMs?: number;
  /** Per-call timeoutMs of the echoes, so a loaded machine cannot time them out. Default: 5000. */
  healthyTimeoutMs?: number;
  /** The worker's maxMemoryMb (what stops a `bomb`). Default: 16. */
  maxMemoryMb?: number;
  /** Pause between deploys; `0` deploys nothing. Default: 100. */
  deployEveryMs?: number;
  /** Share of each faulty kind. Default: {@link DEFAULT_MIX}. */
  mix?: Partial<Record<Exclude<ChaosKind, 'echo'>, number>>;
  /** A call not settled after this long is reported as unsettled and no longer waited for. Default: 20000. */
  callDeadlineMs?: number;
  /**
   * Calls settled before "RSS after warm-up" is measured. Default: a third of `calls` (RSS reaches
   * its plateau there: V8 sizes its young generation up and allocator arenas fill with threads
   * being replaced; neither is a leak).
   */
  warmupCalls?: number;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
  /** One line per deploy and its outcome. Default: none. */
  trace?: (line: string) => void;
}

export interface KindTally {
  ok: number;
  failed: number;
  /** Failures by error code (`none` for an error without one). */
  codes: Record<string, number>;
}

export interface DeployTally {
  attempted: number;
  served: number;
  rejected: number;
  /** Neither `reload` nor `reload-error` within 5 s. */
  none: number;
}

export interface ChaosSoakFigures {
  seed: number;
  calls: number;
  settled: number;
  /** Calls still pending after `callDeadlineMs`. */
  unsettled: { i: number; kind: ChaosKind }[];
  healthy: number;
  healthyFailed: number;
  healthyFailedByCode: Record<string, number>;
  firstHealthyFailures: { i: number; code: string; message: string }[];
  wrongResults: number;
  firstWrongResults: { i: number; got: string | undefined }[];
  byKind: Record<ChaosKind, KindTally>;
  /** Faulty calls that succeeded or failed with a code not in {@link EXPECTED_CODES}. */
  faultyCallsWithUnexpectedOutcome: string[];
  errorsWithoutCode: number;
  errorsWithoutCodeSamples: string[];
  unhandledRejections: number;
  unhandledRejectionSamples: string[];
  deploysEnabled: boolean;
  deploys: {
    /** `reload` events of good builds. */
    ok: number;
    /** `reload-error` events. */
    rejected: number;
    rolledBack: number;
    /** `reload` events of broken builds. */
    brokenServed: number;
    noOutcome: number;
    /** By build: v1, v2, garbage, truncated, no-echo, echo-traps. */
    byKind: Record<string, DeployTally>;
    rejectionCodes: Record<string, number>;
  };
  /** Times worker.version decreased, or a call reported a version older than one settled before it started. */
  versionsWentBack: number;
  versionAnomalies: string[];
  finalVersion: number;
  /** How many versions served at least one call. */
  versionsServed: number;
  callsOnBrokenVersions: number;
  threadsAlive: number;
  threadsTarget: number;
  threadsRestoredMs: number;
  restarts: number;
  timeouts: number;
  traps: number;
  failedByCode: Record<string, number>;
  rssBeforeMb: number;
  rssAfterWarmupMb: number;
  rssAfterMb: number;
  rssGrowthPct: number;
  /** Whether RSS was measured after `global.gc()` (node --expose-gc). */
  gcExposed: boolean;
  durationMs: number;
}

/** What {@link violations} returns for a clean run. */
export const NO_VIOLATIONS: ReturnType<typeof violations>;

/** Runs the soak; every call's outcome is counted, nothing throws for a failed call. */
export function runChaosSoak(options?: ChaosSoakOptions): Promise<ChaosSoakFigures>;

/** The checked figures of a run; a clean run gives exactly {@link NO_VIOLATIONS}. */
export function violations(figures: ChaosSoakFigures): {
  unsettled: { i: number; kind: ChaosKind }[];
  healthyFailed: number;
  healthyFailedByCode: Record<string, number>;
  /** The first five, as `echo #i: CODE (message)`. */
  firstHealthyFailures: string[];
  wrongResults: number;
  firstWrongResults: { i: number; got: string | undefined }[];
  faultyCallsWithUnexpectedOutcome: string[];
  errorsWithoutCode: number;
  unhandledRejections: number;
  threadsRestored: boolean;
  versionsWentBack: number;
  callsOnBrokenVersions: number;
  brokenDeploysServed: number;
  brokenDeploysRejected: boolean;
  goodDeploysServed: boolean;
  goodVersionsRolledBack: number;
};

/** The figures as a readable table. */
export function formatFigures(figures: ChaosSoakFigures): string;
