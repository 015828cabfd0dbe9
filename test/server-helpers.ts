import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
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

/** One answer read off a raw socket. */
export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The body as text. */
  text: string;
}

/**
 * Writes `request` (bytes exactly as given: malformed HTTP included) on a fresh connection and
 * parses every answer the server writes until it closes the connection. `end: false` leaves the
 * connection open after writing; `destroyAfterMs` then resets it (a client that drops). Fails after
 * `limitMs` without the server closing.
 */
export function rawHttp(
  gateway: { url: string },
  request: string | Uint8Array,
  options: { end?: boolean; destroyAfterMs?: number; limitMs?: number } = {},
): Promise<RawAnswer[]> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(request);
      if (options.destroyAfterMs !== undefined) {
        setTimeout(() => socket.destroy(), options.destroyAfterMs);
      } else if (options.end !== false) {
        socket.end();
      }
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of the answer within ${options.limitMs ?? 5000} ms`));
    }, options.limitMs ?? 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the server answered (it may close before reading everything) still counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseAnswers(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** Parses HTTP/1.1 answers (Content-Length or chunked bodies) written one after the other. */
export function parseAnswers(bytes: Buffer): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', at);
    if (headEnd < 0)
      throw new Error(`an answer without the end of its head: ${bytes.subarray(at)}`);
    const [statusLine, ...lines] = bytes.subarray(at, headEnd).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine!);
    if (!match) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = headEnd + 4;
    let body: Buffer;
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', at);
        const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
        at = lineEnd + 2;
        if (!size) {
          at += 2;
          break;
        }
        parts.push(bytes.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] ?? bytes.length - at);
      body = bytes.subarray(at, at + length);
      at += length;
    }
    answers.push({ status: Number(match[1]), headers, text: body.toString('utf8') });
  }
  return answers;
}

/** A logger option capturing the gateway's log lines (pino JSON), parsed, into `lines`. */
export function captureLog(lines: Record<string, unknown>[], level = 'debug') {
  return {
    level,
    stream: { write: (line: string) => void lines.push(JSON.parse(line)) },
  };
}
