/**
 * `wasi:filesystem` for components: the directories of `wasi.preopens` (guest path → host path)
 * and nothing else. Every path a guest opens is resolved inside its preopened directory, symbolic
 * links included: `..`, absolute paths and links leading out are refused with `not-permitted`.
 * Errors are WASI `error-code` names, which jco turns into the guest's `err`.
 */
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
  constants,
  type Stats,
} from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** A WASI `error-code`, thrown as jco expects a host `err`. */
type ErrorCode = string;

const ERRNO: Record<string, ErrorCode> = {
  EACCES: 'access',
  EPERM: 'not-permitted',
  ENOENT: 'no-entry',
  EEXIST: 'exist',
  ENOTDIR: 'not-directory',
  EISDIR: 'is-directory',
  ENOTEMPTY: 'not-empty',
  EINVAL: 'invalid',
  ELOOP: 'loop',
  ENAMETOOLONG: 'name-too-long',
  ENOSPC: 'insufficient-space',
  EBADF: 'bad-descriptor',
  EROFS: 'read-only',
  EXDEV: 'cross-device',
  EBUSY: 'busy',
  EFBIG: 'file-too-large',
};

/** Runs a file-system call, turning Node's errors into WASI error codes. */
function wasi<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw ERRNO[code] ?? 'io';
    throw error;
  }
}

function typeOf(stats: Stats): string {
  if (stats.isFile()) return 'regular-file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symbolic-link';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character-device';
  if (stats.isBlockDevice()) return 'block-device';
  return 'unknown';
}

const timestamp = (ms: number) => ({
  seconds: BigInt(Math.floor(ms / 1000)),
  nanoseconds: Math.round((ms % 1000) * 1e6),
});

function stat(stats: Stats) {
  return {
    type: typeOf(stats),
    linkCount: BigInt(stats.nlink),
    size: BigInt(stats.size),
    dataAccessTimestamp: timestamp(stats.atimeMs),
    dataModificationTimestamp: timestamp(stats.mtimeMs),
    statusChangeTimestamp: timestamp(stats.ctimeMs),
  };
}

/** What the descriptors of one instance share: streams over files, and the files open. */
export interface FileContext {
  input(read: (length: number) => Uint8Array): unknown;
  output(write: (bytes: Uint8Array) => void): unknown;
  /** Files open, closed when the guest drops them or its instance is replaced. */
  open: Set<number>;
}

/** The `descriptor` resource: a preopened directory, or a file or directory opened in one. */
export class Descriptor {
  /** The preopened directory this descriptor lies in (real path). */
  readonly #root: string;
  /** This descriptor's real host path. */
  readonly #path: string;
  readonly #fd: number | undefined;
  readonly #flags: { read?: boolean; write?: boolean };
  readonly #context: FileContext;

  constructor(
    root: string,
    path: string,
    fd: number | undefined,
    flags: { read?: boolean; write?: boolean },
    context: FileContext,
  ) {
    this.#root = root;
    this.#path = path;
    this.#fd = fd;
    this.#flags = flags;
    this.#context = context;
  }

  /** The preopened directory `hostPath`, for `get-directories`. */
  static preopen(root: string, context: FileContext): Descriptor {
    return new Descriptor(root, root, undefined, { read: true, write: true }, context);
  }

  /**
   * The host path of `path` inside this directory, refusing what leads out of the preopen: an
   * absolute path, `..` above it, or a symbolic link (of any existing part) pointing out.
   */
  #resolve(path: string): string {
    if (isAbsolute(path) || path.includes('\0')) throw 'not-permitted';
    const target = resolve(this.#path, path);
    if (!this.#inside(target)) throw 'not-permitted';
    // The deepest part that exists, with its links resolved, must still be inside.
    let existing = target;
    while (!wasi(() => lstatExists(existing))) existing = resolve(existing, '..');
    if (!this.#inside(wasi(() => realpathSync(existing)))) throw 'not-permitted';
    return target;
  }

  #inside(path: string): boolean {
    const rel = relative(this.#root, path);
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  }

  #file(): number {
    if (this.#fd === undefined) throw 'is-directory';
    return this.#fd;
  }

  getType(): string {
    return typeOf(wasi(() => lstatSync(this.#path)));
  }
  getFlags() {
    return { ...this.#flags };
  }
  stat() {
    return stat(wasi(() => (this.#fd === undefined ? statSync(this.#path) : fstatSync(this.#fd))));
  }
  statAt(_pathFlags: unknown, path: string) {
    const target = this.#resolve(path);
    return stat(wasi(() => statSync(target)));
  }
  metadataHash() {
    const s = wasi(() => statSync(this.#path));
    return { lower: BigInt(s.ino), upper: BigInt(s.dev) };
  }
  metadataHashAt(_pathFlags: unknown, path: string) {
    const s = wasi(() => statSync(this.#resolve(path)));
    return { lower: BigInt(s.ino), upper: BigInt(s.dev) };
  }
  isSameObject(other: Descriptor): boolean {
    return other.#path === this.#path;
  }

  openAt(
    _pathFlags: unknown,
    path: string,
    openFlags: { create?: boolean; directory?: boolean; exclusive?: boolean; truncate?: boolean },
    flags: { read?: boolean; write?: boolean },
  ): Descriptor {
    if (this.#fd !== undefined) throw 'not-directory';
    const target = this.#resolve(path);
    if (openFlags.directory) {
      if (!wasi(() => statSync(target)).isDirectory()) throw 'not-directory';
      return new Descriptor(this.#root, target, undefined, flags, this.#context);
    }
    const write = Boolean(flags.write);
    let mode = write ? (flags.read ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY;
    if (openFlags.create) mode |= constants.O_CREAT;
    if (openFlags.exclusive) mode |= constants.O_EXCL;
    if (openFlags.truncate) mode |= constants.O_TRUNC;
    // Never follow a link at the last step: #resolve checked where the path leads already.
    const fd = wasi(() => openSync(target, mode | constants.O_NOFOLLOW));
    if (fstatSync(fd).isDirectory()) {
      closeSync(fd);
      return new Descriptor(this.#root, target, undefined, flags, this.#context);
    }
    this.#context.open.add(fd);
    return new Descriptor(this.#root, target, fd, flags, this.#context);
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    if (!this.#flags.read) throw 'bad-descriptor';
    const fd = this.#file();
    const buffer = new Uint8Array(Math.min(Number(length), 1 << 24));
    const n = wasi(() => readSync(fd, buffer, 0, buffer.length, Number(offset)));
    return [buffer.subarray(0, n), n === 0 && buffer.length > 0];
  }
  write(buffer: Uint8Array, offset: bigint): bigint {
    if (!this.#flags.write) throw 'bad-descriptor';
    const fd = this.#file();
    return BigInt(wasi(() => writeSync(fd, buffer, 0, buffer.length, Number(offset))));
  }
  readViaStream(offset: bigint): unknown {
    if (!this.#flags.read) throw 'bad-descriptor';
    const fd = this.#file();
    let at = Number(offset);
    return this.#context.input((length) => {
      const buffer = new Uint8Array(Math.min(length, 1 << 24));
      const n = wasi(() => readSync(fd, buffer, 0, buffer.length, at));
      at += n;
      return buffer.subarray(0, n);
    });
  }
  writeViaStream(offset: bigint): unknown {
    if (!this.#flags.write) throw 'bad-descriptor';
    const fd = this.#file();
    let at = Number(offset);
    return this.#context.output((bytes) => {
      at += wasi(() => writeSync(fd, bytes, 0, bytes.length, at));
    });
  }
  appendViaStream(): unknown {
    return this.writeViaStream(BigInt(this.stat().size));
  }
  setSize(size: bigint): void {
    if (!this.#flags.write) throw 'bad-descriptor';
    const fd = this.#file();
    wasi(() => ftruncateSync(fd, Number(size)));
  }
  sync(): void {
    if (this.#fd !== undefined) wasi(() => fsyncSync(this.#fd!));
  }
  syncData(): void {
    this.sync();
  }
  readDirectory(): DirectoryEntryStream {
    if (this.#fd !== undefined) throw 'not-directory';
    const entries = wasi(() => readdirSync(this.#path, { withFileTypes: true }));
    return new DirectoryEntryStream(
      entries.map((e) => ({ type: typeOf(lstatSync(join(this.#path, e.name))), name: e.name })),
    );
  }
  createDirectoryAt(path: string): void {
    const target = this.#resolve(path);
    wasi(() => mkdirSync(target));
  }
  removeDirectoryAt(path: string): void {
    const target = this.#resolve(path);
    wasi(() => rmdirSync(target));
  }
  unlinkFileAt(path: string): void {
    const target = this.#resolve(path);
    wasi(() => unlinkSync(target));
  }
  /** Closes the file when the guest drops the descriptor (jco calls it on resource-drop). */
  [Symbol.dispose](): void {
    if (this.#fd !== undefined && this.#context.open.delete(this.#fd)) closeSync(this.#fd);
  }
}

export class DirectoryEntryStream {
  readonly #entries: { type: string; name: string }[];
  constructor(entries: { type: string; name: string }[]) {
    this.#entries = entries;
  }
  readDirectoryEntry(): { type: string; name: string } | undefined {
    return this.#entries.shift();
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
