import type { DeployedModule, ModuleState } from './module-record.js';
import type { FunctionDescription } from './module-description.js';
import type { ModuleSettings } from './sidecar.js';
import type { ThreadStatus } from '../supervisor/worker-types.js';

/** A module as `GET /functions` lists it. */
export interface ModuleStatus {
  name: string;
  state: ModuleState;
  /** The version being served; versions only increase over the gateway's life. */
  version: number;
  /** sha256 of the module being served. */
  hash: string | undefined;
  file: string;
  wasi: boolean;
  /** Threads serving now (`target`, between `min` and `max`), alive, ready, warm spares. */
  threads: ThreadStatus | undefined;
  queued: number;
  running: number;
  functions: FunctionDescription[];
  settings: Pick<
    ModuleSettings,
    'timeoutMs' | 'queueTimeoutMs' | 'maxQueue' | 'maxMemoryMb' | 'maxImagePixels' | 'isolation'
  >;
  deployedAt: string | undefined;
  updatedAt: string;
  /** The last deploy or reload failure, until a later one succeeds. */
  error: { code: string; message: string } | undefined;
}

/** The status of a module, as `GET /functions` and `GET /functions/:module` answer it. */
export function moduleStatus(module: DeployedModule): ModuleStatus {
  const stats = module.worker?.stats();
  const { timeoutMs, queueTimeoutMs, maxQueue, maxMemoryMb, maxImagePixels, isolation } =
    module.settings;
  return {
    name: module.name,
    state: module.state,
    version: module.version,
    hash: module.hash,
    file: `${module.name}.wasm`,
    wasi: module.wasi,
    threads: stats?.threads,
    queued: stats?.queued ?? 0,
    running: stats?.running ?? 0,
    functions: [...module.functions.values()],
    settings: { timeoutMs, queueTimeoutMs, maxQueue, maxMemoryMb, maxImagePixels, isolation },
    deployedAt: module.deployedAt?.toISOString(),
    updatedAt: module.updatedAt.toISOString(),
    error: module.error && { code: module.error.code, message: module.error.message },
  };
}
