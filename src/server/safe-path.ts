import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ModuleNameInvalidError, UnsafePathError } from './gateway-errors.js';

/** What a module name may be: a letter or digit, then letters, digits, `_` or `-`; 64 at most. */
export const MODULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** True when `name` is a valid module name (so also free of `/`, `\`, `.` and NUL). */
export function isModuleName(name: string): boolean {
  return MODULE_NAME.test(name);
}

/** Throws `ERR_MODULE_NAME_INVALID` unless `name` is a valid module name. */
export function checkModuleName(name: string): void {
  if (!isModuleName(name)) {
    throw new ModuleNameInvalidError(
      `"${name.slice(0, 80)}" is not a module name: use a letter or digit, then letters, ` +
        `digits, "_" or "-" (64 characters at most), e.g. "image-filters".`,
      { details: { name: name.slice(0, 80) } },
    );
  }
}

/** True when `path` is `folder` itself or inside it (both absolute and resolved). */
export function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Resolves `path` (relative to `folder`, through every symlink) and checks the result is inside
 * `folder`'s own real path. Returns the real path, or `undefined` if nothing is there.
 * @throws `ERR_UNSAFE_PATH` when it resolves outside the folder.
 */
export async function resolveInside(folder: string, path: string): Promise<string | undefined> {
  const realFolder = await realpath(folder);
  let real: string;
  try {
    real = await realpath(resolve(folder, path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!isInside(realFolder, real)) {
    throw new UnsafePathError(
      `${path} resolves outside the deploy folder (to ${real}); only files inside it are ` +
        `served. Copy the file into the folder instead of linking to it.`,
      { details: { path } },
    );
  }
  return real;
}

/**
 * Reads a regular file inside `folder` (symlinks allowed if they stay inside). Returns
 * `undefined` if there is no such file.
 * @throws `ERR_UNSAFE_PATH` for a path resolving outside the folder or a non-regular file.
 */
export async function readInside(folder: string, path: string): Promise<Buffer | undefined> {
  const real = await resolveInside(folder, path);
  if (real === undefined) return undefined;
  let handle;
  try {
    // O_NOFOLLOW: `real` has no symlinks left; if one was swapped in since, refuse it.
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') {
      throw new UnsafePathError(`${path} was replaced by a symlink while being read.`, {
        cause: error,
        details: { path },
      });
    }
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new UnsafePathError(`${path} is not a regular file.`, { details: { path } });
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
