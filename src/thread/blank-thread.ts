/**
 * A blank thread: booted (Node, this library's thread code) with no module, kept warm in the
 * process-wide reservoir (src/supervisor/blank-threads.ts) until a pool claims it. Its
 * workerData is this marker; the pool that claims it sends the module to serve as the thread's
 * one piscina task.
 */
export interface BlankThreadData {
  wasmtubeBlank: true;
}

export const isBlankThreadData = (data: unknown): data is BlankThreadData =>
  typeof data === 'object' && data !== null && 'wasmtubeBlank' in data;
