// Moved to src/util/serial-queue.ts. This re-export only keeps src/supervisor/worker.ts building
// until its import points there; delete the file then.
export { SerialQueue } from '../util/serial-queue.js';
