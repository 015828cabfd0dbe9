/**
 * wasmtube: run WebAssembly modules from Node.js — an in-process bridge for JSON, bytes and RGB
 * images over the Wasmtube ABI.
 * @packageDocumentation
 */
export { Wasmtube, type WasmtubeOptions, type ExportInfo } from './wasmtube.js';
export type {
  BytesInput,
  CallInput,
  CallOptions,
  DataInput,
  ImageInput,
  ResultKind,
  ResultTypes,
  RgbImage,
} from './types.js';
export type { ImageFormat } from './bridge/image-codec.js';
export { detectImageFormat } from './bridge/image-codec.js';
export type { Placement } from './bridge/guest-memory.js';
export type { WasiOptions, WasiOutput, CapturedOutput } from './bridge/wasi.js';
export type { CommandResult } from './bridge/guest-instance.js';
export type { WapcHostCall, WapcOptions } from './bridge/abi-wapc.js';
export { conventionOf, type Abi, type Convention } from './bridge/conventions.js';
export { describeExports } from './bridge/describe-exports.js';
export type { HostFunction, HostFunctions } from './bridge/host-functions.js';
export type { TypedCallOptions } from './bridge/typed-call.js';
export type { TypedValue, TypedResult } from './bridge/typed-values.js';
export type { CompiledModule, CompileOptions, Isolation } from './bridge/compiled-module.js';
export { compileModule } from './bridge/compiled-module.js';
export { compileGuest } from './component/compile-guest.js';
export { isComponent } from './component/component-binary.js';
export type { ComponentWorld, WitFunction, WitType } from './component/wit-types.js';
export {
  readModuleInfo,
  type FunctionSignature,
  type ModuleInfo,
  type ModuleEntry,
  type ImportEntry,
  type MemoryLimits,
  type ValueType,
} from './bridge/wasm-binary.js';
export { Worker } from './supervisor/worker.js';
export {
  setBlankThreads,
  DEFAULT_BLANK_THREADS,
  type BlankThreadCount,
} from './supervisor/blank-threads.js';
export type {
  CallInfo,
  ReloadResult,
  RestartReason,
  WorkerCallOptions,
  WorkerEvents,
  WorkerOptions,
  WorkerState,
  WorkerStats,
} from './supervisor/worker-types.js';
export type { RollbackOptions } from './supervisor/reload-policy.js';
export {
  Supervisor,
  type SupervisorOptions,
  type SupervisorEvents,
  type RestartStrategy,
  type SupervisedChild,
  type CrashReport,
} from './supervisor/supervisor.js';
export type { LatencySummary } from './supervisor/call-stats.js';
export * from './errors.js';
