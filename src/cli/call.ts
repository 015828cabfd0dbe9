import { readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { InputFileError } from '../server/gateway-errors.js';
import { builtinHostFunctions, grantHostFunctions } from '../server/host-catalog.js';
import { describeGuest } from '../server/guest-description.js';
import { parseSidecar, type ModuleSettings } from '../server/sidecar.js';
import { Worker } from '../supervisor/worker.js';
import type { CallInput, ResultKind } from '../types.js';
import { forCli } from './cli-advice.js';
import { callInLattice, type LatticeCallFlags } from './lattice-call.js';
import { addLatticeFlags } from './lattice-flags.js';
import { keyValue, nonNegativeInteger, positiveInteger } from './options.js';
import { readWasmModule } from './read-module.js';

type Returns = Extract<ResultKind, 'json' | 'bytes' | 'png' | 'jpeg' | 'webp'>;
const RETURNS: Returns[] = ['json', 'bytes', 'png', 'jpeg', 'webp'];
const BY_EXTENSION: Record<string, Returns> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.json': 'json',
  '.bin': 'bytes',
  '.rgb': 'bytes',
};

interface CallFlags extends LatticeCallFlags {
  data?: string;
  dataFile?: string;
  bytesFile?: string;
  image?: string;
  width?: number;
  height?: number;
  out?: string;
  returns?: Returns;
  timeoutMs: number;
  maxMemoryMb?: number;
  env?: Record<string, string>;
  config?: string | false;
  pretty?: boolean;
}

/** `wasmtube call <file.wasm> <function>`: one call on a fresh worker thread, result to stdout. */
export function callCommand(): Command {
  const command = new Command('call')
    .description(
      'Call a function of a .wasm module and print its JSON result (or write its image).',
    )
    .argument('<file>', 'the .wasm module')
    .argument('<function>', 'the exported function to call')
    .option('-d, --data <json>', 'JSON input (default: null)')
    .option('--data-file <path>', "JSON input read from a file ('-': stdin)")
    .option('--bytes-file <path>', "raw bytes input read from a file ('-': stdin)")
    .option(
      '-i, --image <path>',
      'image input: PNG, JPEG, WebP, ... (decoded by sharp), or raw RGB with --width and --height',
    )
    .option('--width <px>', 'width of a raw RGB --image', positiveInteger)
    .option('--height <px>', 'height of a raw RGB --image', positiveInteger)
    .option(
      '-o, --out <path>',
      "write the result to a file ('-': stdout); .png, .jpg, .webp, .json, .bin or .rgb (raw bytes) pick the format",
    )
    .addOption(
      new Option(
        '-r, --returns <format>',
        'result format (default: from --out, else json)',
      ).choices(RETURNS),
    )
    .option('--timeout-ms <ms>', 'running time allowed (0: none)', nonNegativeInteger, 30_000)
    .option('--max-memory-mb <mb>', "cap on the guest's memory", positiveInteger)
    .option('--env <KEY=VALUE>', 'WASI environment variable (repeatable; grants WASI)', keyValue)
    .option(
      '--config <file>',
      'module settings in the sidecar format (default: <file>.json beside it)',
    )
    .option('--no-config', 'ignore the sidecar beside the module')
    .option('--pretty', 'indent JSON output')
    .addHelpText(
      'after',
      `
Examples:
  $ wasmtube call examples/echo.wasm echo --data '{"hello":"world"}'
  $ wasmtube call examples/cipher.wasm encrypt --data '{"text":"hello world"}' --env SHIFT=3
  $ wasmtube call examples/filters.wasm grayscale --image examples/cat.png --out gray.png
  $ wasmtube call echo echo --data '{"a":1}' --nats nats://127.0.0.1:4222   # <file> is a module of the lattice`,
    )
    .option(
      '--retry <n>',
      'with --nats: run again on another host if the host is lost',
      nonNegativeInteger,
    )
    .action(async (file: string, fn: string, flags: CallFlags) => {
      await runCall(file, fn, flags);
    });
  return addLatticeFlags(command);
}

async function runCall(file: string, fn: string, flags: CallFlags): Promise<void> {
  const input = await readInput(flags);
  const returns = resultFormat(flags, input);
  if (returns !== 'json' && flags.out === undefined) {
    throw new InvalidArgumentError(
      `The result is ${returns === 'bytes' ? 'raw bytes' : `a ${returns} image`}: pass --out ` +
        `<file> (or --out - for stdout).`,
    );
  }
  if (flags.nats !== undefined) {
    // In a lattice, <file> names a module some host serves.
    const result = await callInLattice(file, fn, input, returns, flags).catch((error: unknown) =>
      Promise.reject(forCli(error)),
    );
    return writeResult(result, returns, flags);
  }
  const bytes = await readWasmModule(file);
  const settings = await readSettings(file, flags.config);
  const wasi =
    flags.env !== undefined || settings.wasi !== undefined || (await describeGuest(bytes)).wasi
      ? { ...settings.wasi, env: { ...settings.wasi?.env, ...flags.env } }
      : undefined;
  // The built-in host functions the sidecar grants; wasmtube.log writes to stderr.
  const hostFunctions = settings.hostFunctions?.length
    ? grantHostFunctions(
        builtinHostFunctions((message) => process.stderr.write(`wasmtube.log: ${message}\n`)),
        settings.hostFunctions,
        'the sidecar',
      )
    : undefined;
  const worker = await Worker.start({
    wasmBinary: bytes,
    threads: 1,
    watch: false,
    timeoutMs: flags.timeoutMs,
    ...(flags.maxMemoryMb !== undefined || settings.maxMemoryMb !== undefined
      ? { maxMemoryMb: flags.maxMemoryMb ?? settings.maxMemoryMb }
      : {}),
    ...(settings.resultHeadroomBytes !== undefined
      ? { resultHeadroomBytes: settings.resultHeadroomBytes }
      : {}),
    ...(settings.startTimeoutMs !== undefined ? { startTimeoutMs: settings.startTimeoutMs } : {}),
    ...(wasi ? { wasi } : {}),
    ...(hostFunctions ? { hostFunctions } : {}),
  });
  try {
    const result: unknown = await worker
      .callFunction(fn, input, { returns })
      .catch((error: unknown) => Promise.reject(forCli(error)));
    await writeResult(result, returns, flags);
  } finally {
    await worker.stop();
  }
}

async function writeResult(result: unknown, returns: Returns, flags: CallFlags): Promise<void> {
  const output =
    returns === 'json'
      ? `${JSON.stringify(result, null, flags.pretty ? 2 : undefined)}\n`
      : (result as Buffer);
  if (flags.out === undefined || flags.out === '-') {
    await new Promise<void>((done, fail) =>
      process.stdout.write(output, (error) => (error ? fail(error) : done())),
    );
  } else {
    await writeFile(flags.out, output);
  }
}

async function readInput(flags: CallFlags): Promise<CallInput> {
  const given = (['data', 'dataFile', 'bytesFile', 'image'] as const).filter(
    (k) => flags[k] !== undefined,
  );
  if (given.length > 1) {
    throw new InvalidArgumentError('Pass one input: --data, --data-file, --bytes-file or --image.');
  }
  if ((flags.width === undefined) !== (flags.height === undefined)) {
    throw new InvalidArgumentError('Pass both --width and --height, or neither.');
  }
  if (flags.width !== undefined && flags.image === undefined) {
    throw new InvalidArgumentError('--width and --height go with --image (raw RGB).');
  }
  if (flags.data !== undefined)
    return { data: parseJson(flags.data, '--data', InvalidArgumentError) };
  if (flags.dataFile !== undefined) {
    const text = (await readInputFile(flags.dataFile)).toString('utf8');
    return { data: parseJson(text, flags.dataFile, InputFileError) };
  }
  if (flags.bytesFile !== undefined) return { bytes: await readInputFile(flags.bytesFile) };
  if (flags.image !== undefined) {
    const image = await readInputFile(flags.image);
    return flags.width !== undefined
      ? { image, width: flags.width, height: flags.height }
      : { image };
  }
  return { data: null };
}

function resultFormat(flags: CallFlags, input: CallInput): Returns {
  if (flags.returns !== undefined) return flags.returns;
  if (flags.out !== undefined && flags.out !== '-') {
    const extension = extname(flags.out).toLowerCase();
    const byExtension = BY_EXTENSION[extension];
    if (byExtension !== undefined) return byExtension;
    // Raw bytes under an image's name (x.gif) would only look like a broken file later.
    throw new InvalidArgumentError(
      `--out ${flags.out}: wasmtube cannot tell which format to write for ` +
        `${extension === '' ? 'a name without an extension' : `"${extension}"`}. Supported ` +
        `extensions: ${Object.keys(BY_EXTENSION).join(', ')} (.bin and .rgb: raw bytes); or pass ` +
        `--returns ${RETURNS.join('|')} to write any file name.`,
      { details: { out: flags.out, extensions: Object.keys(BY_EXTENSION) } },
    );
  }
  return 'bytes' in input ? 'bytes' : 'json';
}

function parseJson(
  text: string,
  source: string,
  ErrorClass: typeof InvalidArgumentError | typeof InputFileError,
): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ErrorClass(`${source} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function readInputFile(path: string): Promise<Buffer> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    return await readFile(path);
  } catch (error) {
    throw new InputFileError(`Cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { path },
    });
  }
}

/** The sidecar: `--config`, else `<file>.json` beside the module if there is one. */
async function readSettings(
  file: string,
  config: string | false | undefined,
): Promise<ModuleSettings> {
  if (config === false) return {};
  const path = config ?? file.replace(/\.wasm$/i, '') + '.json';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (config === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new InputFileError(`Cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { path },
    });
  }
  const settings = parseSidecar(text, path);
  const preopens = settings.wasi?.preopens;
  if (preopens) {
    // Relative host paths are relative to the sidecar, as in a deploy folder.
    const base = dirname(resolve(path));
    settings.wasi = {
      ...settings.wasi,
      preopens: Object.fromEntries(
        Object.entries(preopens).map(([guest, host]) => [guest, resolve(base, host)]),
      ),
    };
  }
  return settings;
}
