/**
 * The HTTP gateway (`wasmtube serve`): a function-as-a-service host for a folder of .wasm modules.
 * @packageDocumentation
 */
export { createGateway, serve, Gateway } from './gateway.js';
export {
  DEFAULT_MODULE_SETTINGS,
  type GatewayOptions,
  type ListenOptions,
} from './gateway-options.js';
export type { ModuleStatus } from './module-status.js';
export type { ModuleRegistry } from './module-registry.js';
export type { DeployedModule, ModuleState } from './module-record.js';
export type { ModuleSettings } from './sidecar.js';
export { parseSidecar } from './sidecar.js';
export {
  describeModule,
  type CallingConvention,
  type FunctionDescription,
  type ImportDescription,
  type MemoryDescription,
  type ModuleDescription,
} from './module-description.js';
export { describeGuest } from './guest-description.js';
export { STATUS_BY_CODE, statusForCode } from './http-errors.js';
export { GatewayMetrics } from './metrics.js';
export type {
  EventHub,
  EventHubOptions,
  GatewayEvent,
  HistoryPoint,
  ModuleLive,
} from './event-hub.js';
export type { CallError, WindowFigures } from './call-window.js';
export type {
  ErrorSummary,
  ModuleActivity,
  ModuleActivityType,
  RegistryEvents,
} from './module-activity.js';
export type { LogBook, LogEntry } from './log-book.js';
export type { AdminAnswer } from './admin-routes.js';
export { isModuleName, MODULE_NAME } from './safe-path.js';
export * from './gateway-errors.js';
