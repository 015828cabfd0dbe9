/**
 * WASI preview 2 for components, built from the same `wasi` option as preview 1 and granting no
 * more: the environment and arguments it lists (nothing of this process's), stdin from
 * `wasi.stdin`, stdout/stderr to `wasi.stdout`/`wasi.stderr`, clocks, random, and the files of
 * the `wasi.preopens` directories only. Each instance gets its own.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, realpathSync, statSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import { GuestExit, outputSink, type CapturedOutput, type WasiOptions } from '../bridge/wasi.js';
import { Descriptor, DirectoryEntryStream, type FileContext } from './wasi-filesystem.js';

/** One instance's WASI: its imports by jco interface key, and the output it captured. */
export interface Preview2 {
  interfaces: Record<string, Record<string, unknown>>;
  takeOutput(): CapturedOutput;
  /** Closes the files the instance left open (when it is replaced). */
  close(): void;
}

const encoder = new TextEncoder();
/** `checkWrite` allows this much per write: the sinks take any amount at once. */
const WRITE_BUDGET = 1n << 20n;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

class Pollable {
  readonly #until: bigint | undefined;
  constructor(until?: bigint) {
    this.#until = until;
  }
  ready(): boolean {
    return this.#until === undefined || process.hrtime.bigint() >= this.#until;
  }
  block(): void {
    if (this.#until === undefined) return;
    const left = Number(this.#until - process.hrtime.bigint()) / 1e6;
    if (left > 0) Atomics.wait(sleeper, 0, 0, left);
  }
}

class IoError {
  readonly #message: string;
  constructor(message: string) {
    this.#message = message;
  }
  toDebugString(): string {
    return this.#message;
  }
}

class InputStream {
  /** Up to `length` bytes; none at the end. */
  readonly #source: (length: number) => Uint8Array;
  constructor(source: (length: number) => Uint8Array) {
    this.#source = source;
  }
  read(length: bigint): Uint8Array {
    if (length === 0n) return new Uint8Array();
    const chunk = this.#source(Number(length));
    if (chunk.length === 0) throw { tag: 'closed' };
    return chunk;
  }
  blockingRead(length: bigint): Uint8Array {
    return this.read(length);
  }
  skip(length: bigint): bigint {
    return BigInt(this.read(length).length);
  }
  blockingSkip(length: bigint): bigint {
    return this.skip(length);
  }
  subscribe(): Pollable {
    return new Pollable();
  }
}

class OutputStream {
  readonly #sink: (bytes: Uint8Array) => void;
  constructor(sink: (bytes: Uint8Array) => void) {
    this.#sink = sink;
  }
  checkWrite(): bigint {
    return WRITE_BUDGET;
  }
  write(contents: Uint8Array): void {
    this.#sink(contents);
  }
  blockingWriteAndFlush(contents: Uint8Array): void {
    this.#sink(contents);
  }
  flush(): void {}
  blockingFlush(): void {}
  writeZeroes(length: bigint): void {
    this.#sink(new Uint8Array(Number(length)));
  }
  blockingWriteZeroesAndFlush(length: bigint): void {
    this.writeZeroes(length);
  }
  subscribe(): Pollable {
    return new Pollable();
  }
}

class TerminalInput {}
class TerminalOutput {}

/** The preopened directories, as real paths; `ERR_INVALID_ARGUMENT` for one that is none. */
function preopenRoots(preopens: Record<string, string>): [string, string][] {
  return Object.entries(preopens).map(([guestPath, hostPath]) => {
    let root: string | undefined;
    try {
      root = realpathSync(hostPath);
      if (!statSync(root).isDirectory()) root = undefined;
    } catch {
      root = undefined;
    }
    if (root === undefined) {
      throw new InvalidArgumentError(
        `options.wasi.preopens["${guestPath}"] must be a directory, but ${hostPath} is not one.`,
        { details: { guestPath, hostPath } },
      );
    }
    return [guestPath, root];
  });
}

/** A fresh WASI preview 2 sandbox for one instance. */
export function createPreview2(options: WasiOptions): Preview2 {
  const captured = { stdout: [] as string[], stderr: [] as string[] };
  const stdout = new OutputStream(outputSink(options.stdout ?? 'log', 'stdout', captured.stdout));
  const stderr = new OutputStream(outputSink(options.stderr ?? 'log', 'stderr', captured.stderr));
  let stdinLeft =
    typeof options.stdin === 'string'
      ? encoder.encode(options.stdin)
      : (options.stdin ?? new Uint8Array());
  const stdin = new InputStream((length) => {
    const chunk = stdinLeft.slice(0, length);
    stdinLeft = stdinLeft.subarray(chunk.length);
    return chunk;
  });
  const files: FileContext = {
    input: (read) => new InputStream(read),
    output: (write) => new OutputStream(write),
    open: new Set(),
  };
  const directories = preopenRoots(options.preopens ?? {}).map(
    ([guestPath, root]) => [Descriptor.preopen(root, files), guestPath] as const,
  );
  const env = Object.entries(options.env ?? {});
  const args = options.args ?? [];
  const wallNow = () => {
    const ms = Date.now();
    return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1e6 };
  };
  const interfaces: Record<string, Record<string, unknown>> = {
    'wasi:cli/environment': {
      getEnvironment: () => env.map(([k, v]) => [k, v]),
      getArguments: () => [...args],
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit: (status: { tag: 'ok' | 'err' }) => {
        throw new GuestExit(status.tag === 'ok' ? 0 : 1);
      },
    },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': {
      Pollable,
      poll: (list: Pollable[]) => {
        const ready = () => list.flatMap((p, i) => (p.ready() ? [i] : []));
        while (ready().length === 0) list[0]?.block();
        return new Uint32Array(ready());
      },
    },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:clocks/wall-clock': {
      now: wallNow,
      resolution: () => ({ seconds: 0n, nanoseconds: 1e6 }),
    },
    'wasi:clocks/monotonic-clock': {
      now: () => process.hrtime.bigint(),
      resolution: () => 1n,
      subscribeInstant: (when: bigint) => new Pollable(when),
      subscribeDuration: (ns: bigint) => new Pollable(process.hrtime.bigint() + ns),
    },
    'wasi:random/random': {
      getRandomBytes: (length: bigint) => new Uint8Array(randomBytes(Number(length))),
      getRandomU64: () => randomBytes(8).readBigUInt64LE(),
    },
    'wasi:random/insecure': {
      getInsecureRandomBytes: (length: bigint) => new Uint8Array(randomBytes(Number(length))),
      getInsecureRandomU64: () => randomBytes(8).readBigUInt64LE(),
    },
    'wasi:random/insecure-seed': {
      insecureSeed: () => [randomBytes(8).readBigUInt64LE(), randomBytes(8).readBigUInt64LE()],
    },
    'wasi:filesystem/preopens': { getDirectories: () => directories.map((d) => [...d]) },
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: () => undefined,
    },
  };
  return {
    interfaces,
    takeOutput() {
      const out = { stdout: captured.stdout.join(''), stderr: captured.stderr.join('') };
      captured.stdout.length = 0;
      captured.stderr.length = 0;
      return out;
    },
    close() {
      for (const fd of files.open) closeSync(fd);
      files.open.clear();
    },
  };
}
