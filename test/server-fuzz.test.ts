import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_BY_CODE } from '../dist/server/index.js';
import { pngOf } from './helpers.js';
import { seededRandom, type SeededRandom } from './seeded-random.js';
import { captureLog, rawHttp, send, startGateway, type RawAnswer } from './server-helpers.js';

// Replay a failure with WASMTUBE_FUZZ_SEED=<seed> (printed with it); more with WASMTUBE_FUZZ_N.
const SEED = Number(process.env.WASMTUBE_FUZZ_SEED ?? 20260401);
const REQUESTS = Number(process.env.WASMTUBE_FUZZ_N ?? 800);
const CONCURRENCY = 8;

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const DOCS = ['../docs/server.md', '../docs/errors.md']
  .map((path) => readFileSync(new URL(path, import.meta.url), 'utf8'))
  .join('\n');
/** Every status the documented table can answer with, and 200. */
const STATUSES = new Set([200, ...Object.values(STATUS_BY_CODE)]);

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));

/** A PNG whose IHDR declares `width`×`height` (CRC fixed), over the pixels of an 8×8 image. */
function withDimensions(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function mutate(random: SeededRandom, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let i = random.int(4) + 1; i > 0 && out.length; i--)
    out[random.int(out.length)] = random.int(256);
  return random.next() < 0.3 ? out.subarray(0, random.int(out.length + 1)) : out;
}

interface FuzzRequest {
  text: Buffer;
  method: string;
  /** The body is shorter than its Content-Length and the client drops: maybe no answer. */
  mayGoUnanswered: boolean;
  describe: string;
}

/** A well-formed request to a route that exists, with a body the function can take. */
function wellFormed(r: SeededRandom, pngs: { small: Buffer }): FuzzRequest {
  const json = (data: unknown) => ({
    type: 'application/json',
    body: Buffer.from(JSON.stringify(data)),
  });
  const png = { type: 'image/png', body: pngs.small };
  const [method, path, input] = r.pick([
    ['GET', '/healthz', undefined],
    ['GET', '/metrics', undefined],
    ['GET', '/functions', undefined],
    ['GET', `/functions/${r.pick(['echo', 'cipher', 'filters'])}`, undefined],
    ['POST', '/functions/echo/echo', json(r.pick([{ a: 1 }, [1, 'x'], 'text', null, 3.5]))],
    ['POST', '/functions/echo/hello', json(r.pick([{ name: 'Ada' }, {}, null]))],
    ['POST', `/functions/cipher/${r.pick(['encrypt', 'decrypt'])}`, json({ text: 'hello' })],
    ['POST', `/functions/filters/${r.pick(['grayscale', 'sepia', 'invert', 'blur'])}`, png],
    // A small PNG declaring 2.5 gigapixels: 413 from its header.
    [
      'POST',
      '/functions/filters/invert',
      { type: 'image/png', body: withDimensions(pngs.small, 50000, 50000) },
    ],
  ] as const);
  const headers = ['Host: 127.0.0.1', 'Connection: close'];
  if (input) headers.push(`Content-Type: ${input.type}`, `Content-Length: ${input.body.length}`);
  if (input?.type === 'image/png')
    headers.push(`Accept: ${r.pick(['image/png', 'image/webp', 'image/*'])}`);
  const head = `${method} ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`;
  return {
    text: Buffer.concat([Buffer.from(head), input?.body ?? Buffer.alloc(0)]),
    method,
    mayGoUnanswered: false,
    describe: `${JSON.stringify(head)} + ${input?.body.length ?? 0} body bytes`,
  };
}

function generate(random: SeededRandom, pngs: { small: Buffer }): FuzzRequest {
  const r = random;
  if (r.next() < 0.25) return wellFormed(r, pngs);
  const method = r.pick([
    'GET',
    'GET',
    'POST',
    'POST',
    'POST',
    'POST',
    'PUT',
    'DELETE',
    'HEAD',
    'OPTIONS',
    'PATCH',
    'FOO',
    'get',
    'P0ST',
    'CONNECT',
    'PROPFIND',
    '',
  ]);
  const name = (): string =>
    r.pick([
      'echo',
      'cipher',
      'filters',
      'nope',
      '',
      '..',
      '.',
      '%2e%2e',
      '%zz',
      '%',
      '%E0%A4%A',
      '%00',
      'a%2Fb',
      'é',
      '%C3%A9',
      '-x',
      'x'.repeat(r.int(3) === 0 ? 2000 : 101),
      r.bytes(r.int(8)).toString('base64url'),
      encodeURIComponent(r.bytes(4).toString('latin1')),
    ]);
  const fn = (): string =>
    r.pick(['echo', 'hello', 'encrypt', 'decrypt', 'grayscale', 'blur', 'sepia', 'invert', name()]);
  const query = r.pick([
    '',
    '',
    '',
    '?format=png',
    '?format=json',
    '?format=gif',
    '?width=8&height=8',
    '?width=abc',
    '?x=1',
    '?format=',
    '?width=8',
    '?format=webp&format=png',
    '?%zz=1',
    '?width=99999999&height=1',
  ]);
  const path = r.pick([
    () => r.pick(['/healthz', '/metrics', '/functions', '/', '//functions', '/functions/']),
    () => `/functions/${name()}`,
    () => `/functions/${r.pick(['echo', 'cipher', 'filters'])}/${fn()}${query}`,
    () => `/functions/${name()}/${fn()}${query}`,
    () => `/functions/../../etc/passwd`,
    () => `/functions/echo/echo/${name()}`,
    () =>
      `/${r
        .bytes(r.int(20))
        .toString('latin1')
        .replace(/[\r\n ]/g, '')}`,
    () => `/functions/echo/echo?${'q'.repeat(r.int(3000))}`,
  ])();
  const contentType = r.pick([
    'application/json',
    'application/json',
    'image/png',
    'image/png',
    'image/jpeg',
    'application/octet-stream',
    'text/plain',
    'garbage',
    '',
    'application/json; charset=utf-8',
    'multipart/form-data; boundary=x',
    'image/',
    'IMAGE/PNG',
    undefined,
  ]);
  const accept = r.pick([undefined, 'image/png', 'image/*', 'application/json', '*/*', 'x/y, ,;;']);
  const body = r.pick([
    () => Buffer.alloc(0),
    () => r.bytes(r.int(2000)),
    () =>
      Buffer.from(
        JSON.stringify(r.pick([{ text: 'hello' }, { name: 'Ada' }, [1, 2], 'x', 7, null])),
      ),
    () => mutate(r, Buffer.from('{"text":"hello world","shift":3}')),
    () => pngs.small,
    () => mutate(r, pngs.small),
    () => withDimensions(pngs.small, r.pick([12000, 65535, 50000]), r.pick([12000, 65535, 1])),
  ])();
  const headers: string[] = [];
  if (r.next() > 0.05) headers.push('Host: 127.0.0.1');
  headers.push('Connection: close');
  if (contentType !== undefined) headers.push(`Content-Type: ${contentType}`);
  if (accept !== undefined) headers.push(`Accept: ${accept}`);
  if (r.next() < 0.05) headers.push(`X-Big: ${'b'.repeat(17 * 1024)}`);
  if (r.next() < 0.05) headers.push(`Authorization: Bearer ${r.bytes(8).toString('hex')}`);
  let payload = body;
  let mayGoUnanswered = false;
  const framing = r.int(20);
  if (framing === 0) {
    // Chunked, sometimes with a broken chunk size.
    headers.push('Transfer-Encoding: chunked');
    const size = r.next() < 0.5 ? body.length.toString(16) : 'zz';
    payload = Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
  } else if (framing === 1) {
    // Declares more than it sends, then drops: the server sees the body end early.
    headers.push(`Content-Length: ${body.length + 1 + r.int(1000)}`);
    mayGoUnanswered = true;
  } else if (framing === 2) {
    headers.push(`Content-Length: ${r.pick(['-1', 'abc', '1e3', '1, 2'])}`);
  } else if (body.length > 0 || r.next() < 0.5) {
    headers.push(`Content-Length: ${body.length}`);
  }
  const version = r.pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTX']);
  const head = `${method} ${path} ${version}\r\n${headers.join('\r\n')}\r\n\r\n`;
  return {
    text: Buffer.concat([Buffer.from(head, 'latin1'), payload]),
    method,
    mayGoUnanswered,
    describe: `${JSON.stringify(head.slice(0, 300))} + ${payload.length} body bytes`,
  };
}

/** What is wrong with an answer, or undefined. */
function check(answer: RawAnswer, request: FuzzRequest): string | undefined {
  if (!STATUSES.has(answer.status)) return `status ${answer.status} is not in the table`;
  if (answer.status < 400 || request.method === 'HEAD') return undefined;
  let body: { error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `status ${answer.status} with a body that is not JSON: ${answer.text.slice(0, 200)}`;
  }
  const code = body?.error?.code;
  if (typeof code !== 'string' || typeof body.error?.message !== 'string') {
    return `not { error: { code, message } }: ${answer.text.slice(0, 200)}`;
  }
  if (Object.keys(body).length !== 1) return `extra fields: ${answer.text.slice(0, 200)}`;
  if (STATUS_BY_CODE[code] !== answer.status) {
    return `${code} answered with ${answer.status}, the table says ${STATUS_BY_CODE[code]}`;
  }
  if (!DOCS.includes(`\`${code}\``)) return `${code} is not documented`;
  if (code === 'ERR_INTERNAL') return `ERR_INTERNAL: ${body.error.message}`;
  return undefined;
}

describe(`gateway fuzz (seed ${SEED}, ${REQUESTS} requests)`, () => {
  it('answers every request with a documented status and error body, and stays up', async () => {
    const lines: Record<string, unknown>[] = [];
    const gateway = await startGateway(EXAMPLES, {
      watch: false,
      logger: captureLog(lines, 'info'),
    });
    const random = seededRandom(SEED);
    const pngs = { small: await pngOf(8, 8) };
    const requests = Array.from({ length: REQUESTS }, () => generate(random, pngs));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const lane = async () => {
      while (next < requests.length) {
        const index = next++;
        const request = requests[index]!;
        const where = `#${index} ${request.describe}`;
        let answers: RawAnswer[];
        try {
          // The connection stays open until the server closes it (Connection: close): Node takes
          // a client's half-close for a client that left, and cancels its call. A body shorter
          // than its Content-Length ends with a reset instead.
          answers = await rawHttp(gateway, request.text, {
            limitMs: 10_000,
            ...(request.mayGoUnanswered ? { destroyAfterMs: 200 } : { end: false }),
          });
        } catch (error) {
          failures.push(`${where}: ${(error as Error).message}`);
          continue;
        }
        if (answers.length === 0 && !request.mayGoUnanswered) {
          failures.push(`${where}: no answer`);
        }
        for (const answer of answers) {
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          const problem = check(answer, request);
          if (problem) failures.push(`${where}: ${problem}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));

    const internal = lines.filter(
      (line) => line.code === 'ERR_INTERNAL' || (line.level as number) >= 60,
    );
    const context = `seed ${SEED} (replay: WASMTUBE_FUZZ_SEED=${SEED} npx vitest run test/server-fuzz.test.ts)`;
    expect(failures, context).toEqual([]);
    // The inputs reach the functions as well as the error paths.
    const seen = Object.fromEntries(statuses);
    expect(seen[200], `${context}: ${JSON.stringify(seen)}`).toBeGreaterThan(REQUESTS / 10);
    expect(statuses.size, `${context}: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(5);
    if (process.env.WASMTUBE_FUZZ_VERBOSE) console.log(`seed ${SEED}: statuses`, seen);
    expect(internal, context).toEqual([]);
    expect(unhandled, context).toEqual([]);
    expect((await send(`${gateway.url}/healthz`)).status, context).toBe(200);
    // Every module of the examples folder is still serving.
    const modules = (await send(`${gateway.url}/functions`)).body.modules;
    expect(
      modules.map((m: { name: string; state: string }) => `${m.name}: ${m.state}`),
      context,
    ).toEqual(['caesar: serving', 'cipher: serving', 'echo: serving', 'filters: serving']);
  }, 60_000);
});
