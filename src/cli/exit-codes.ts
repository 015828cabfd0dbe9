import { WasmtubeError } from '../errors.js';

/** Exit codes of the `wasmtube` command (documented in README.md and docs/server.md). */
export const EXIT = {
  /** Success; `serve` stopped by SIGINT/SIGTERM after draining its calls. */
  OK: 0,
  /**
   * `call`: the call failed (trap, timeout, bad result, ...); an admin command: the gateway
   * refused or failed the request. The code is on stderr.
   */
  CALL_FAILED: 1,
  /** Usage: unknown command or option, missing or invalid argument, invalid `--data` JSON. */
  USAGE: 2,
  /** A file named on the command line is unusable: missing, unreadable, not a valid module, bad sidecar. */
  INPUT: 3,
  /**
   * `serve` could not start (the folder is missing, the address is taken or not allowed), or a
   * command could not reach NATS (`--nats`) or the gateway (`--url`).
   */
  SERVE_FAILED: 4,
  /** `new`: the target folder is not empty (or is a file); nothing was written. */
  TARGET_NOT_EMPTY: 5,
  /** A bug: an unexpected error (the stack is on stderr). */
  INTERNAL: 70,
  /** `serve` got a second SIGINT/SIGTERM while shutting down and stopped without draining. */
  FORCED: 130,
} as const;

/** Codes that mean a file given on the command line could not be used. */
const INPUT_CODES = new Set([
  'ERR_WASM_FILE_NOT_FOUND',
  'ERR_WASM_FILE_READ',
  'ERR_WASM_COMPILE',
  'ERR_WASM_INSTANTIATE',
  'ERR_MEMORY_NOT_EXPORTED',
  'ERR_START_TIMEOUT',
  'ERR_INPUT_FILE',
  'ERR_SIDECAR_INVALID',
  'ERR_UNSAFE_PATH',
]);

/** Node errors of `listen`. */
const LISTEN_CODES = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND']);

/** The exit code for an error thrown by a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof WasmtubeError) {
    if (error.code === 'ERR_INVALID_ARGUMENT') return EXIT.USAGE;
    if (error.code === 'ERR_TEMPLATE_UNSUPPORTED') return EXIT.USAGE;
    if (error.code === 'ERR_TARGET_NOT_EMPTY') return EXIT.TARGET_NOT_EMPTY;
    if (error.code === 'ERR_DEPLOY_FOLDER') return EXIT.SERVE_FAILED;
    if (error.code === 'ERR_LISTEN_FAILED') return EXIT.SERVE_FAILED;
    // Any command: NATS, or the gateway of an admin command, could not be reached.
    if (error.code === 'ERR_NATS_UNREACHABLE') return EXIT.SERVE_FAILED;
    if (error.code === 'ERR_GATEWAY_UNREACHABLE') return EXIT.SERVE_FAILED;
    if (INPUT_CODES.has(error.code)) return EXIT.INPUT;
    return EXIT.CALL_FAILED;
  }
  const code = (error as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && LISTEN_CODES.has(code)) return EXIT.SERVE_FAILED;
  return EXIT.INTERNAL;
}
