import { SidecarInvalidError } from './gateway-errors.js';
import { readInside, resolveInside } from './safe-path.js';
import { overrideSettings, parseSidecar, type ModuleSettings } from './sidecar.js';

/**
 * The settings of module `name`: `defaults` overridden by its sidecar `<name>.json` in `folder`,
 * with WASI preopens resolved inside the folder.
 * @throws `ERR_SIDECAR_INVALID` for a bad sidecar or a preopen that does not exist,
 * `ERR_UNSAFE_PATH` for a path that leaves the folder
 */
export async function readModuleSettings(
  folder: string,
  name: string,
  defaults: ModuleSettings,
): Promise<ModuleSettings> {
  const file = `${name}.json`;
  const text = await readInside(folder, file);
  const sidecar = text === undefined ? {} : parseSidecar(text.toString('utf8'), file);
  const settings = overrideSettings(defaults, sidecar);
  const preopens = settings.wasi?.preopens;
  if (preopens) {
    const resolved: Record<string, string> = {};
    for (const [guestPath, hostPath] of Object.entries(preopens)) {
      const real = await resolveInside(folder, hostPath);
      if (real === undefined) {
        throw new SidecarInvalidError(
          `${file}: wasi.preopens["${guestPath}"] names ${hostPath}, which does not exist.`,
          { details: { file, field: `wasi.preopens.${guestPath}` } },
        );
      }
      resolved[guestPath] = real;
    }
    settings.wasi = { ...settings.wasi, preopens: resolved };
  }
  return settings;
}
