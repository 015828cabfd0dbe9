import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Command, InvalidArgumentError as FlagError, Option } from 'commander';
import { InputFileError } from '../server/gateway-errors.js';
import { DEFAULT_MODULE_SETTINGS } from '../server/gateway-options.js';
import { serve } from '../server/gateway.js';
import { teeStream } from '../server/log-book.js';
import { EXIT } from './exit-codes.js';
import { addLatticeFlags } from './lattice-flags.js';
import { checkListenAddress, listenError } from './listen-check.js';
import { prettyStream } from './pretty-log.js';
import { nonNegativeInteger, port, positiveInteger } from './options.js';
import { type BlankThreadCount, DEFAULT_BLANK_THREADS } from '../supervisor/blank-threads.js';
import { runLatticeServe, type HostFlags } from './serve-lattice.js';

/** Commander parser for --blank-threads: auto, or 0 to 64. */
function blankThreadCount(value: string): BlankThreadCount {
  if (value === 'auto') return value;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n <= 64)) throw new FlagError("Expected 'auto' or an integer from 0 to 64.");
  return n;
}

interface ServeFlags extends HostFlags {
  blankThreads: BlankThreadCount;
  host: string;
  port: number;
  threads?: number;
  minThreads?: number;
  maxThreads?: number;
  idleTimeoutMs?: number;
  timeoutMs: number;
  queueTimeoutMs: number;
  maxQueue: number;
  maxMemoryMb: number;
  maxImagePixels: number;
  isolation: 'call' | 'instance';
  bodyLimitMb: number;
  token?: string;
  watch: boolean;
  shutdownTimeoutMs: number;
  logLevel: string;
  pretty?: boolean;
  logFile?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `wasmtube serve [dir]`: the HTTP gateway, until SIGINT or SIGTERM. */
export function serveCommand(): Command {
  const d = DEFAULT_MODULE_SETTINGS;
  const command = new Command('serve')
    .description(
      'Serve every .wasm module in a folder over HTTP (POST /functions/:module/:function), ' +
        'deploying, reloading and undeploying as files change, until SIGINT or SIGTERM.',
    )
    .argument(
      '[dir]',
      'the deploy folder (default: .); with --nats, a deploy source for the lattice',
    )
    .option('--host <host>', 'address to bind (0.0.0.0 for every interface)', '127.0.0.1')
    .option('-p, --port <port>', 'port (0: a free one)', port, 3000)
    .option(
      '--threads <n>',
      'a fixed pool of threads per module (instead of min/max)',
      positiveInteger,
    )
    .option(
      '--min-threads <n>',
      `threads per module at rest, 0 to scale to zero (default: ${d.minThreads})`,
      nonNegativeInteger,
    )
    .option(
      '--max-threads <n>',
      `threads per module under load (default: ${d.maxThreads})`,
      positiveInteger,
    )
    .option(
      '--idle-timeout-ms <ms>',
      `a thread above --min-threads idle this long exits (default: ${d.idleTimeoutMs})`,
      positiveInteger,
    )
    .option(
      '--blank-threads <n>',
      'warm blank threads (auto, or 0 to 64) that modules claim as they grow: a call to a ' +
        'module scaled to zero waits for an instance, not a thread boot (auto: the largest ' +
        'growth of a module, at most one per core; 0: none)',
      blankThreadCount,
      DEFAULT_BLANK_THREADS,
    )
    .option(
      '--timeout-ms <ms>',
      'running time allowed per call (0: none)',
      nonNegativeInteger,
      d.timeoutMs,
    )
    .option(
      '--queue-timeout-ms <ms>',
      'time a call may wait for a thread (0: none)',
      nonNegativeInteger,
      0,
    )
    .option(
      '--max-queue <n>',
      'calls that may wait per module (more: 429)',
      nonNegativeInteger,
      d.maxQueue,
    )
    .option('--max-memory-mb <mb>', "cap on each instance's memory", positiveInteger, d.maxMemoryMb)
    .option(
      '--max-image-pixels <n>',
      'most pixels an image input may have, checked before decoding (more: 413)',
      positiveInteger,
      d.maxImagePixels,
    )
    .addOption(
      new Option(
        '--isolation <mode>',
        'what a request sees of earlier ones: call (nothing) or instance',
      )
        .choices(['call', 'instance'])
        .default(d.isolation),
    )
    .option('--body-limit-mb <mb>', 'largest request body (more: 413)', positiveInteger, 16)
    .addOption(
      new Option('--token <token>', 'require Authorization: Bearer <token> (but on /healthz)').env(
        'WASMTUBE_TOKEN',
      ),
    )
    .option('--no-watch', 'deploy the folder once; do not watch it')
    .option(
      '--shutdown-timeout-ms <ms>',
      'on SIGINT/SIGTERM, how long calls in flight may take to finish',
      nonNegativeInteger,
      10_000,
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .option('--pretty', 'human-readable log lines (for a terminal) instead of JSON')
    .option('--log-file <path>', 'also append the log, as JSON lines, to this file')
    .addHelpText(
      'after',
      `
Per-module settings override these in a sidecar <name>.json beside <name>.wasm, e.g.
  { "threads": 4, "timeoutMs": 2000, "wasi": { "env": { "SHIFT": "5" } } }
Prefer WASMTUBE_TOKEN to --token: command lines are visible to other users.

Example:
  $ wasmtube serve examples --port 3000
  $ curl -X POST localhost:3000/functions/echo/echo -H 'Content-Type: application/json' -d '{"a":1}'`,
    )
    .option(
      '--modules <names>',
      'with --nats: serve only these modules of the lattice (comma-separated)',
    )
    .option(
      '--host-id <id>',
      "with --nats: this host's id in the lattice (default: <hostname>-<pid>)",
    )
    .action(async (dir: string | undefined, flags: ServeFlags) => {
      await runServe(dir, flags);
    });
  return addLatticeFlags(command);
}

async function runServe(dir: string | undefined, flags: ServeFlags): Promise<void> {
  // Before deploying anything: a taken port should not cost a deploy of every module.
  await checkListenAddress(flags.host, flags.port);
  const logFile = flags.logFile === undefined ? undefined : await openLogFile(flags.logFile);
  try {
    await serveUntilSignal(dir, flags, logFile);
  } finally {
    logFile?.end();
  }
}

async function serveUntilSignal(
  dir: string | undefined,
  flags: ServeFlags,
  logFile: WriteStream | undefined,
): Promise<void> {
  const options = {
    host: flags.host,
    port: flags.port,
    token: flags.token === '' ? undefined : flags.token,
    bodyLimitBytes: flags.bodyLimitMb * 1024 * 1024,
    watch: flags.watch,
    drainTimeoutMs: flags.shutdownTimeoutMs,
    blankThreads: flags.blankThreads,
    defaults: {
      // Only the flags given: the gateway's defaults fill the rest (threads replaces min/max).
      ...(flags.threads !== undefined && { threads: flags.threads }),
      ...(flags.minThreads !== undefined && { minThreads: flags.minThreads }),
      ...(flags.maxThreads !== undefined && { maxThreads: flags.maxThreads }),
      ...(flags.idleTimeoutMs !== undefined && { idleTimeoutMs: flags.idleTimeoutMs }),
      timeoutMs: flags.timeoutMs,
      queueTimeoutMs: flags.queueTimeoutMs,
      maxQueue: flags.maxQueue,
      maxMemoryMb: flags.maxMemoryMb,
      maxImagePixels: flags.maxImagePixels,
      isolation: flags.isolation,
    },
    logger: {
      level: flags.logLevel,
      stream: teeStream(
        flags.pretty ? prettyStream(process.stdout) : process.stdout,
        ...(logFile ? [logFile] : []),
      ),
    },
  };
  // The signal handlers go in before the gateway listens: a supervisor (or a test) that sends
  // SIGTERM as soon as it reads the "listening" line must get a drain, not Node's default exit.
  const signals = new SignalLatch();
  if (flags.nats !== undefined) {
    try {
      return await runLatticeServe(dir, flags, options, (leave, log) =>
        untilSignal(log, () => leave(flags.shutdownTimeoutMs), signals),
      );
    } finally {
      signals.dispose();
    }
  }
  let gateway: Awaited<ReturnType<typeof serve>>;
  try {
    gateway = await serve({ ...options, dir: dir ?? '.' });
  } catch (error) {
    signals.dispose();
    // Taken between the check and the listen.
    throw listenError(error, flags.host, flags.port);
  }
  await untilSignal(
    gateway.app.log,
    () => gateway.close({ timeoutMs: flags.shutdownTimeoutMs }),
    signals,
  );
}

/** Holds the first SIGINT/SIGTERM that comes while the gateway starts, for untilSignal. */
class SignalLatch {
  signal: NodeJS.Signals | undefined;
  readonly #hold = (signal: NodeJS.Signals) => (this.signal ??= signal);

  constructor() {
    process.on('SIGINT', this.#hold);
    process.on('SIGTERM', this.#hold);
  }

  dispose(): void {
    process.off('SIGINT', this.#hold);
    process.off('SIGTERM', this.#hold);
  }
}

/** Resolves once a SIGINT or SIGTERM has shut the gateway down; a second signal forces exit. */
function untilSignal(
  log: { info: (o: object, m: string) => void; warn?: (o: object, m: string) => void },
  close: () => Promise<void>,
  latch?: SignalLatch,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const force = (again: NodeJS.Signals) => {
        (log.warn ?? log.info).call(
          log,
          { signal: again },
          'second signal: exiting without draining',
        );
        process.exit(EXIT.FORCED);
      };
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      log.info({ signal }, 'signal received');
      close().then(() => {
        process.off('SIGINT', force);
        process.off('SIGTERM', force);
        resolve();
      }, reject);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    latch?.dispose();
    if (latch?.signal) onSignal(latch.signal);
  });
}

/** The `--log-file`, opened for appending; a path that cannot be written fails before serving. */
async function openLogFile(path: string): Promise<WriteStream> {
  try {
    await (await open(path, 'a')).close();
  } catch (error) {
    throw new InputFileError(`Cannot write --log-file ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { path },
    });
  }
  return createWriteStream(path, { flags: 'a' });
}
