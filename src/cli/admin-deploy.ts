import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { InputFileError } from '../server/gateway-errors.js';
import type { AdminAnswer } from '../server/admin-routes.js';
import { isModuleName } from '../server/safe-path.js';
import { adminRequest, type AdminTarget } from './admin-client.js';
import { readWasmModule } from './read-module.js';

/** Options of {@link deployOverHttp}. */
export interface HttpDeployOptions {
  /** The module name. Default: the file's name without `.wasm`. */
  name?: string | undefined;
  /** A sidecar (settings JSON) to write with it. Default: `<file>.json` beside it, if any. */
  sidecar?: string | undefined;
}

/**
 * `wasmtube deploy <file.wasm>` against a gateway: uploads the sidecar (if given), then the
 * module's bytes; the gateway validates them, writes them atomically into its folder and deploys
 * them as a file copy would. Resolves with the gateway's answer once the module serves.
 * @throws `ERR_WASM_FILE_NOT_FOUND`, `ERR_WASM_COMPILE`, `ERR_INPUT_FILE` before anything is sent;
 *   the gateway's error (e.g. `ERR_WASM_INSTANTIATE`, `ERR_RELOAD_REJECTED`) after
 */
export async function deployOverHttp(
  target: AdminTarget,
  file: string,
  options: HttpDeployOptions = {},
): Promise<AdminAnswer> {
  const name = options.name ?? basename(file).replace(/\.wasm$/i, '');
  if (!isModuleName(name)) {
    throw new InvalidArgumentError(
      `"${name}" is not a module name: pass --name <name> (a letter or digit, then letters, ` +
        'digits, "_" or "-", 64 characters at most).',
    );
  }
  const bytes = await readWasmModule(file);
  // The sidecar: --sidecar, else <file>.json beside the module if there is one.
  const sidecarPath = options.sidecar ?? file.replace(/\.wasm$/i, '') + '.json';
  let text: string | undefined;
  try {
    text = await readFile(sidecarPath, 'utf8');
    JSON.parse(text);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    if (!(missing && options.sidecar === undefined)) {
      throw new InputFileError(
        `Cannot use the sidecar ${sidecarPath}: ${(error as Error).message}`,
        {
          cause: error,
          details: { path: sidecarPath },
        },
      );
    }
    text = undefined;
  }
  if (text !== undefined) {
    await adminRequest(target, 'PUT', `/admin/modules/${name}/sidecar`, {
      bytes: Buffer.from(text),
      type: 'application/json',
    });
  }
  return adminRequest<AdminAnswer>(target, 'PUT', `/admin/modules/${name}`, {
    bytes,
    type: 'application/wasm',
  });
}

/**
 * `wasmtube undeploy <module>` against a gateway: its file is removed from the folder; the
 * module drains and goes. Resolves with the gateway's answer (the module as it last was).
 */
export function undeployOverHttp(target: AdminTarget, module: string): Promise<AdminAnswer> {
  return adminRequest<AdminAnswer>(
    target,
    'DELETE',
    `/admin/modules/${encodeURIComponent(module)}`,
  );
}
