import type { HostFunctions } from '../bridge/host-functions.js';
import { SidecarInvalidError } from './gateway-errors.js';

/**
 * The host functions the gateway offers every module, under import module `wasmtube`. A module
 * gets only those its sidecar grants (`"hostFunctions": ["wasmtube.log"]`).
 * - `log(message: string)`: writes the message to the gateway's log, with the module's name
 *   (an audit log, like the component runner's `audit-log` capability);
 * - `now_ms() -> f64`: the wall clock, in ms since the epoch.
 */
export function builtinHostFunctions(log: (message: string) => void): HostFunctions {
  return {
    wasmtube: {
      log: { params: ['string'], returns: 'void', fn: (message: string) => log(message) },
      now_ms: { params: [], returns: 'f64', fn: () => Date.now() },
    },
  };
}

/** `a.b` names of every function in `catalog`. */
export function hostFunctionNames(catalog: HostFunctions): string[] {
  return Object.entries(catalog).flatMap(([module, fns]) =>
    Object.keys(fns).map((name) => `${module}.${name}`),
  );
}

/**
 * The part of `catalog` that `grants` names: `module.name`, or `module.*` for all of a module;
 * `target=module.name` grants that function under another import name, e.g. the gateway's log as
 * a component's audit log: `"example:cipher/audit-log.log=wasmtube.log"`.
 * @throws `ERR_SIDECAR_INVALID` for a grant the catalog does not offer
 */
export function grantHostFunctions(
  catalog: HostFunctions,
  grants: readonly string[],
  source: string,
): HostFunctions {
  const granted: HostFunctions = {};
  for (const entry of grants) {
    const [target, grant = entry] = entry.includes('=') ? entry.split('=', 2) : [undefined];
    const dot = grant.lastIndexOf('.');
    const module = grant.slice(0, dot);
    const name = grant.slice(dot + 1);
    const offered = dot > 0 ? catalog[module] : undefined;
    const names = name === '*' ? Object.keys(offered ?? {}) : [name];
    if (!offered || names.length === 0 || names.some((n) => !Object.hasOwn(offered, n))) {
      throw new SidecarInvalidError(
        `${source}: hostFunctions grants "${entry}", which this host does not offer. ` +
          `Offered: ${hostFunctionNames(catalog).join(', ') || '(none)'}.`,
        { details: { file: source, field: 'hostFunctions' } },
      );
    }
    const at = target?.lastIndexOf('.') ?? -1;
    if (target !== undefined && (at <= 0 || name === '*')) {
      throw new SidecarInvalidError(
        `${source}: hostFunctions grants "${entry}": write "<import module>.<name>=<module>.<name>" ` +
          `to grant one offered function under another name.`,
        { details: { file: source, field: 'hostFunctions' } },
      );
    }
    if (target !== undefined) {
      (granted[target.slice(0, at)] ??= {})[target.slice(at + 1)] = offered[name]!;
      continue;
    }
    for (const n of names) (granted[module] ??= {})[n] = offered[n]!;
  }
  return granted;
}

/**
 * The host functions a module's sidecar `source` grants, from the built-in ones (logging through
 * `log`) and those the gateway was given; undefined when it grants none.
 * @throws `ERR_SIDECAR_INVALID` for a grant neither offers
 */
export function grantedHostFunctions(
  given: HostFunctions,
  grants: readonly string[] | undefined,
  source: string,
  log: (message: string) => void,
): HostFunctions | undefined {
  if (!grants?.length) return undefined;
  const catalog: HostFunctions = { ...builtinHostFunctions(log) };
  for (const [module, fns] of Object.entries(given)) {
    catalog[module] = { ...catalog[module], ...fns };
  }
  return grantHostFunctions(catalog, grants, source);
}
