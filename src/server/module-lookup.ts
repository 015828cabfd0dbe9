import { ModuleNotFoundError, ModuleUnavailableError } from './gateway-errors.js';
import type { DeployedModule } from './module-record.js';
import type { ModuleRegistry } from './module-registry.js';
import { checkModuleName } from './safe-path.js';

/**
 * The module named in a request, or the error for why it cannot be used.
 * @throws `ERR_MODULE_NAME_INVALID`, `ERR_MODULE_NOT_FOUND`
 */
export function findModule(modules: ModuleRegistry, name: string): DeployedModule {
  checkModuleName(name);
  const module = modules.get(name);
  if (!module) {
    throw new ModuleNotFoundError(
      `No module "${name}" is deployed. GET /functions lists the modules.`,
      { details: { module: name } },
    );
  }
  return module;
}

/** The module's worker, or `ERR_MODULE_UNAVAILABLE` when it is deploying or failed. */
export function servingWorker(module: DeployedModule): NonNullable<DeployedModule['worker']> {
  const worker = module.worker;
  if (module.state !== 'serving' || !worker) {
    throw new ModuleUnavailableError(
      module.state === 'deploying'
        ? `Module "${module.name}" is being deployed; retry in a moment.`
        : `Module "${module.name}" is not serving: ${module.error?.message ?? 'it failed.'}`,
      { details: { module: module.name, state: module.state, cause: module.error?.code } },
    );
  }
  return worker;
}
