import type { HostFunctions } from '../bridge/host-functions.js';
import type { WorkerOptions } from '../supervisor/worker-types.js';
import type { ModuleSettings } from './sidecar.js';

/** The options of the worker serving a module: its bytes, its settings and its granted host functions. */
export function workerOptions(
  bytes: Buffer,
  settings: ModuleSettings,
  wasi: boolean,
  hostFunctions: HostFunctions | undefined,
): WorkerOptions {
  // maxImagePixels is checked from the header before a call reaches the worker, and again by
  // the worker's threads when they decode (so both agree on the module's limit).
  const { probe, wasi: wasiSettings, hostFunctions: _grants, ...rest } = settings;
  // Undefined values would override the worker's own defaults.
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return {
    // A thread sleeps as soon as it has no call, rather than polling for the next one for 100 µs
    // (the library's default): under HTTP load on a machine with few cores, that polling takes
    // the CPU the main thread and the clients need (bench group http: ~+30% requests/s). A
    // gateway's calls wait for HTTP anyway, and calls read in one turn leave together.
    spinUs: 0,
    ...defined,
    wasmBinary: bytes,
    watch: false,
    // A WASI module gets WASI with nothing granted unless its sidecar grants something.
    ...(wasiSettings || wasi ? { wasi: wasiSettings ?? {} } : {}),
    ...(probe ? { probe: { fn: probe.fn, input: { data: probe.data ?? null } } } : {}),
    ...(hostFunctions ? { hostFunctions } : {}),
  };
}
