import { randomBytes } from 'node:crypto';
import { lstat, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { isComponent } from '../component/component-binary.js';
import { InvalidArgumentError, WasmCompileError } from '../errors.js';
import { sha256 } from '../util/sha256.js';
import { ForbiddenError, ModuleNotFoundError } from './gateway-errors.js';
import { describeGuest } from './guest-description.js';
import { findModule } from './module-lookup.js';
import type { ModuleRegistry } from './module-registry.js';
import { moduleStatus, type ModuleStatus } from './module-status.js';
import { checkModuleName } from './safe-path.js';
import { parseSidecar } from './sidecar.js';

/** What the admin routes need from the gateway. */
export interface AdminRouteParts {
  modules: ModuleRegistry;
  /**
   * Whether requests may change state: the gateway has a token (checked on every route), or
   * listens on loopback only.
   */
  adminAllowed: () => boolean;
  /**
   * Whether the gateway is a host of a lattice, whose store (not this host's folder) decides
   * what it serves: then the routes that change modules are refused.
   */
  inLattice?: () => boolean;
}

interface ModuleParams {
  Params: { module: string };
}

/** What the state-changing admin routes answer. */
export interface AdminAnswer {
  module: ModuleStatus | undefined;
  /** `deploy`, `reload`, `undeploy`, or `sidecar` (written; applied by the module's next deploy). */
  done: 'deploy' | 'reload' | 'undeploy' | 'sidecar';
}

/**
 * The admin routes that change the deploy folder or a module, each the same as an operator's
 * file operation (so an HTTP deploy and a file copy behave the same):
 * - `PUT /admin/modules/:module` (body: the .wasm bytes): validated, written atomically as
 *   `<module>.wasm`, deployed (or hot-reloaded) by the registry;
 * - `PUT /admin/modules/:module/sidecar` (body: JSON settings): validated, written as
 *   `<module>.json`;
 * - `POST /admin/modules/:module/reload`: the module starts again on fresh threads as the next
 *   version while the old ones drain;
 * - `DELETE /admin/modules/:module`: `<module>.wasm` is removed; the module drains and goes.
 * Each answers once the registry has acted, with the module's status.
 */
export function registerAdminRoutes(app: FastifyInstance, parts: AdminRouteParts): void {
  const { modules, adminAllowed, inLattice = () => false } = parts;
  app.addContentTypeParser('application/wasm', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  const guard = async () => {
    if (inLattice()) {
      throw new ForbiddenError(
        'This gateway is a host of a lattice: its modules come from the lattice, not from its ' +
          'folder. Use wasmtube deploy|undeploy --nats <urls> to change them.',
      );
    }
    if (!adminAllowed()) {
      throw new ForbiddenError(
        'This gateway has no token and listens beyond loopback, so it refuses routes that ' +
          'change state. Start it with WASMTUBE_TOKEN set (then send Authorization: Bearer ' +
          '<token>), or listen on 127.0.0.1.',
      );
    }
  };

  app.put<ModuleParams>('/admin/modules/:module', { onRequest: guard }, async (request) => {
    const name = request.params.module;
    checkModuleName(name);
    const bytes = request.body;
    if (!Buffer.isBuffer(bytes) || bytes.length === 0) {
      throw new InvalidArgumentError(
        'Send the module as the body, with Content-Type: application/wasm (wasmtube deploy ' +
          '<file.wasm> does).',
      );
    }
    try {
      // A component is read by transpiling it (which also readies it for its Worker).
      if (isComponent(bytes)) await describeGuest(bytes);
      else await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    } catch (error) {
      throw new WasmCompileError(
        `The body is not a valid WebAssembly module (${(error as Error).message}); nothing ` +
          `was written. Send a complete .wasm binary.`,
        { cause: error, details: { module: name, bytes: bytes.length } },
      );
    }
    await writeAtomically(modules.folder, `${name}.wasm`, bytes);
    await modules.sync(name);
    const module = modules.get(name);
    const hash = sha256(bytes);
    if (module?.state !== 'serving' || module.hash !== hash) {
      // Written, as a copied file would be, but not serving: say why.
      throw module?.error ?? new InvalidArgumentError(`${name}.wasm was written but not deployed.`);
    }
    return { module: moduleStatus(module), done: 'deploy' } satisfies AdminAnswer;
  });

  app.put<ModuleParams>('/admin/modules/:module/sidecar', { onRequest: guard }, async (request) => {
    const name = request.params.module;
    checkModuleName(name);
    if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
      throw new InvalidArgumentError(
        'Send the sidecar settings as a JSON object, with Content-Type: application/json.',
      );
    }
    const text = `${JSON.stringify(request.body, null, 2)}\n`;
    parseSidecar(text, `${name}.json`);
    await writeAtomically(modules.folder, `${name}.json`, Buffer.from(text));
    await modules.sync(name);
    const module = modules.get(name);
    return { module: module && moduleStatus(module), done: 'sidecar' } satisfies AdminAnswer;
  });

  app.post<ModuleParams>('/admin/modules/:module/reload', { onRequest: guard }, async (request) => {
    const before = findModule(modules, request.params.module);
    const from = before.version;
    await modules.restart(before.name);
    const module = findModule(modules, before.name);
    if (module.state !== 'serving' || module.version === from) {
      throw module.error ?? new InvalidArgumentError(`${module.name} was not restarted.`);
    }
    return { module: moduleStatus(module), done: 'reload' } satisfies AdminAnswer;
  });

  app.delete<ModuleParams>('/admin/modules/:module', { onRequest: guard }, async (request) => {
    const name = request.params.module;
    checkModuleName(name);
    const file = join(modules.folder, `${name}.wasm`);
    const present = await lstat(file).then(
      () => true,
      () => false,
    );
    if (!present) {
      throw new ModuleNotFoundError(
        `No module "${name}" is deployed (no ${name}.wasm in the folder). GET /functions lists ` +
          'the modules.',
        { details: { module: name } },
      );
    }
    const last = modules.get(name);
    const status = last && moduleStatus(last);
    await unlink(file);
    await modules.sync(name);
    return { module: status, done: 'undeploy' } satisfies AdminAnswer;
  });
}

/**
 * Writes `file` in `folder` as a whole or not at all: a hidden temporary file (the folder
 * watcher ignores it) renamed over the target, so the watcher never reads half a module.
 */
async function writeAtomically(folder: string, file: string, bytes: Buffer): Promise<void> {
  const temporary = join(folder, `.${file}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, join(folder, file));
  } catch (error) {
    await unlink(temporary).catch(() => undefined); // already gone, or never written
    throw error;
  }
}
