import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

/** The built CLI, run with this Node. */
export const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

export interface CliResult {
  /** Exit code; null if it had to be killed after `limitMs`. */
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

const children = new Set<ChildProcess>();

afterEach(() => {
  // Only children this file started, by their own handle.
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

/** Runs `wasmtube <args>` to completion. */
export function runCli(
  args: string[],
  options: { input?: string | Buffer; env?: Record<string, string>; limitMs?: number } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...options.env },
    stdio: 'pipe',
  });
  children.add(child);
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  child.stdin.end(options.input);
  return new Promise((resolve) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      children.delete(child);
      resolve({ code, stdout: Buffer.concat(stdout), stderr });
    });
  });
}

/** A running `wasmtube serve`, once it has logged where it listens. */
export interface CliServer {
  url: string;
  child: ChildProcess;
  /** Every log line (pino JSON) printed so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves with the exit code when the process ends (null: killed). */
  exited: Promise<number | null>;
}

/** Starts `wasmtube serve <args>` and waits for its "listening" log line. */
export function startCliServer(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliServer> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  children.add(child);
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const log = JSON.parse(line) as Record<string, unknown>;
        logs.push(log);
        if (typeof log.url === 'string') {
          clearTimeout(guard);
          resolve({ url: log.url, child, logs, stderr: () => stderr, exited });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(guard);
      reject(new Error(`serve exited with ${code} before listening: ${stderr}`));
    });
  });
}
