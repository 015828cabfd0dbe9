import type { RestartReason } from '../supervisor/worker-types.js';

/** An error as events carry it: its code and message. */
export interface ErrorSummary {
  code: string;
  message: string;
}

/**
 * What happened to a module, as the registry reports it (and `GET /events` streams it): the
 * timeline of deploys, reloads, rejected deploys, rollbacks, undeploys, thread restarts and
 * supervisor failures. `version` is the gateway's version number of the module.
 */
export type ModuleActivity =
  | {
      type: 'deploy';
      module: string;
      version: number;
      hash: string;
      /** `new`: first deploy (or re-added); `settings`: its sidecar changed; `restart`: asked for. */
      reason: 'new' | 'settings' | 'restart';
    }
  | { type: 'deploy-failed'; module: string; version: number; error: ErrorSummary }
  | { type: 'reload'; module: string; version: number; hash: string; durationMs: number }
  | { type: 'reload-rejected'; module: string; version: number; error: ErrorSummary }
  | { type: 'rollback'; module: string; from: number; version: number; hash: string }
  | { type: 'undeploy'; module: string; version: number }
  | { type: 'module-failed'; module: string; version: number; error: ErrorSummary }
  | { type: 'restart'; module: string; version: number; reason: RestartReason };

/** The `type`s of {@link ModuleActivity}. */
export type ModuleActivityType = ModuleActivity['type'];

/** Events of a {@link ModuleRegistry}. */
export interface RegistryEvents {
  activity: [event: ModuleActivity];
}

/** `{ code, message }` of anything thrown. */
export function summarizeError(error: unknown): ErrorSummary {
  const e = error as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : 'ERR_INTERNAL',
    message: typeof e?.message === 'string' ? e.message : String(error),
  };
}
