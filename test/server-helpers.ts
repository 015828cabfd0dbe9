import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
// From the server entry; src/index.ts is to re-export it.
import { createGateway, type Gateway, type GatewayOptions } from '../dist/server/index.js';
import { WASM_TEST } from './helpers.js';

const gateways: Gateway[] = [];
const folders: string[] = [];

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close({ timeoutMs: 1000 })));
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary folder, removed after the test, with `files` (name → content) written into it. */
export function tempFolder(files: Record<string, string | Uint8Array> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'wasmtube-serve-'));
  folders.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** A deploy folder holding the Rust test guest as `guest.wasm` (plus `files`). */
export function guestFolder(files: Record<string, string | Uint8Array> = {}): string {
  const dir = tempFolder(files);
  copyFileSync(WASM_TEST, join(dir, 'guest.wasm'));
  return dir;
}

/**
 * A gateway on `dir`, listening on an ephemeral loopback port, closed after the test. Tests
 * use short reload timings; no logging.
 */
export async function startGateway(
  dir: string,
  options: Omit<GatewayOptions, 'dir'> = {},
): Promise<Gateway & { url: string }> {
  const gateway = await createGateway({
    dir,
    logger: false,
    reloadStabilityMs: 30,
    reloadDebounceMs: 10,
    ...options,
    defaults: { threads: 1, ...options.defaults },
  });
  gateways.push(gateway);
  await gateway.listen({ port: 0 });
  return gateway as Gateway & { url: string };
}

/** The parsed answer of a request. */
export interface Answer {
  status: number;
  headers: Headers;
  /** Parsed JSON for JSON answers, else the raw bytes. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** What {@link send} takes: fetch's init, with any bytes as the body. */
export interface SendInit extends Omit<RequestInit, 'body'> {
  body?: string | Uint8Array;
}

/** Sends a request with fetch and reads the whole answer. */
export async function send(url: string, init: SendInit = {}): Promise<Answer> {
  const { body, ...rest } = init;
  const response = await fetch(url, {
    ...rest,
    // A copy: fetch's types want an ArrayBuffer-backed view, not any Buffer.
    body: body instanceof Uint8Array ? new Uint8Array(body) : body,
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const json = response.headers.get('content-type')?.startsWith('application/json');
  return {
    status: response.status,
    headers: response.headers,
    body: json ? JSON.parse(bytes.toString('utf8')) : bytes,
  };
}

/** `POST /functions/:module/:fn` with a JSON body (or `undefined` for none). */
export function callJson(
  gateway: { url: string },
  module: string,
  fn: string,
  data?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return send(`${gateway.url}/functions/${module}/${fn}`, {
    method: 'POST',
    headers: data === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: data === undefined ? undefined : JSON.stringify(data),
  });
}

/** Checks an error answer: status, the `{ error: { code, message } }` body and its code. */
export function expectError(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });
  expect(typeof answer.body.error.message).toBe('string');
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
}

/**
 * A raw HTTP request whose path is sent exactly as given (fetch would normalise `..`).
 */
export function rawRequest(
  gateway: { url: string },
  method: string,
  path: string,
): Promise<{ status: number; body: any }> {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET /functions/:module, as JSON. */
export async function moduleStatus(gateway: { url: string }, name: string, headers = {}) {
  return (await send(`${gateway.url}/functions/${name}`, { headers })).body;
}

/** Polls an async `check` every 10 ms until it returns true; fails with `what` after `limitMs`. */
export async function until(
  check: () => Promise<boolean>,
  what: string,
  limitMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Rounds of the test guest's `work` that take roughly `ms` milliseconds (≈600k rounds/ms). */
const roundsFor = (ms: number): number => Math.round(ms * 600_000);

/**
 * Starts a slow `work` call on `module` (the Rust test guest) and resolves, with the pending
 * answer, once `running` calls are running in the module.
 */
export async function slowCall(
  gateway: { url: string },
  module = 'guest',
  options: { ms?: number; running?: number; headers?: Record<string, string> } = {},
): Promise<{ answer: Promise<Answer> }> {
  const answer = callJson(
    gateway,
    module,
    'work',
    { rounds: roundsFor(options.ms ?? 1000) },
    options.headers,
  );
  await until(
    async () =>
      (await moduleStatus(gateway, module, options.headers)).running >= (options.running ?? 1),
    `a call running in ${module}`,
  );
  return { answer };
}
