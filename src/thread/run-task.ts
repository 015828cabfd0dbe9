/** What a call does on the serving instance, and the facts its reply carries. */
import { threadId } from 'node:worker_threads';
import { needsSharp } from '../bridge/payload.js';
import { epochNow } from '../protocol/call-slots.js';
import type { ThreadCallInfo, ThreadTask } from '../protocol/messages.js';
import type { Wasmtube } from '../wasmtube.js';
import type { Serving } from './instance-factory.js';

/**
 * Runs `task` on `bridge`: a WASI command run, a typed call or a `callFunction`. Returns the
 * value, or a promise of it: no promise when nothing needs sharp, the cheapest way to run most
 * calls.
 */
export function runTask(
  bridge: Wasmtube,
  task: ThreadTask,
  staging: Uint8Array | undefined,
): unknown {
  if (task.run) return bridge.run(task.run);
  if (task.typed) return bridge.call(task.fn, task.typed.args, task.typed.options);
  const input = task.input!;
  const options = { returns: task.returns, resultBuffer: task.resultBuffer ?? staging };
  return needsSharp(input, task.returns)
    ? bridge.callFunction(task.fn, input, options)
    : bridge.callFunctionSync(task.fn, input, options);
}

/** The facts of a call that just finished on `serving`. */
export function callInfo({ bridge, version }: Serving, startedAt: number): ThreadCallInfo {
  const { stdout, stderr } = bridge.lastOutput;
  // Built field by field: spreading optional parts (`...(stdout && { stdout })`) costs every
  // call a slow object clone, and this runs on every call.
  const info: ThreadCallInfo = {
    threadId,
    version,
    instance: bridge.instanceGeneration,
    startedAt,
    finishedAt: epochNow(),
  };
  if (stdout) info.stdout = stdout;
  if (stderr) info.stderr = stderr;
  return info;
}
