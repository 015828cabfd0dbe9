// The gateway's cheaper request path (issue 18): calls of the requests read in one event-loop
// turn start together at its end (TurnBatch), and log lines for byte streams are written once per
// turn (LineBuffer). What must hold: every request gets its own answer, errors stay per call, no
// log line to stdout is lost or reordered, not even when the process exits right after logging.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LineBuffer } from '../dist/server/line-buffer.js';
import { teeStream } from '../dist/server/log-book.js';
import { TurnBatch } from '../dist/server/turn-batch.js';
import {
  callJson,
  expectError,
  guestFolder,
  moduleStatus,
  startGateway,
  until,
} from './server-helpers.js';

describe('TurnBatch', () => {
  it('starts the calls held in one turn together, after it, each settling as its own', async () => {
    const batch = new TurnBatch();
    const started: string[] = [];
    const start = (name: string) => () => {
      started.push(name);
      return Promise.resolve(`${name} done`);
    };
    const a = batch.run(start('a'));
    const b = batch.run(start('b'));
    const failing = batch.run(() => {
      started.push('c');
      throw new Error('c refused');
    });
    const rejecting = batch.run(() => Promise.reject(new Error('d failed')));
    const settled = Promise.allSettled([a, b, failing, rejecting]);
    await Promise.resolve();
    expect(started).toEqual([]); // nothing starts within the turn
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a', 'b', 'c']); // in the order they came, all in one go
    const [first, second, third, fourth] = await settled;
    expect(first).toEqual({ status: 'fulfilled', value: 'a done' });
    expect(second).toEqual({ status: 'fulfilled', value: 'b done' });
    expect(third).toMatchObject({ status: 'rejected', reason: { message: 'c refused' } });
    expect(fourth).toMatchObject({ status: 'rejected', reason: { message: 'd failed' } });
    // A later turn is a new batch.
    await expect(batch.run(start('e'))).resolves.toBe('e done');
  });
});

describe('the gateway under concurrent requests', () => {
  it('answers each of many concurrent requests with its own result, and errors per request', async () => {
    const gateway = await startGateway(guestFolder(), { defaults: { threads: 2 } });
    const answers = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        i % 8 === 7
          ? callJson(gateway, 'guest', 'no_such_function', { i })
          : callJson(gateway, 'guest', 'echo', { i, text: 'x'.repeat(i) }),
      ),
    );
    answers.forEach((answer, i) => {
      if (i % 8 === 7) expectError(answer, 404, 'ERR_EXPORT_NOT_FOUND');
      else {
        expect(answer.status).toBe(200);
        expect(answer.body).toEqual({ i, text: 'x'.repeat(i) });
      }
    });
  });
});

describe('a client closing its connection', () => {
  it('cancels the call running for it, also on a connection that served calls before', async () => {
    const gateway = await startGateway(guestFolder(), { defaults: { threads: 1 } });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (fn: string, data: unknown) =>
      request(`${gateway.url}/functions/guest/${fn}`, {
        agent,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      }).end(JSON.stringify(data));
    // Three calls answered on one kept-alive connection, then a long one on the same socket.
    const sockets = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      const [answer] = (await once(post('echo', i), 'response')) as [
        import('node:http').IncomingMessage,
      ];
      sockets.add(answer.socket);
      answer.resume();
      await once(answer, 'end');
    }
    expect(sockets.size).toBe(1);
    const long = post('work', { rounds: 600_000 * 60_000 }); // about a minute
    long.on('error', () => {}); // destroyed below
    await until(async () => (await moduleStatus(gateway, 'guest')).running === 1, 'the call');
    const worker = gateway.modules.get('guest')!.worker!;
    const restart = once(worker, 'restart') as Promise<[{ reason: string }]>;
    long.destroy();
    expect((await restart)[0]).toMatchObject({ reason: 'abort' });
    agent.destroy();
    expect((await callJson(gateway, 'guest', 'echo', 'after')).body).toBe('after');
  });
});

describe('LineBuffer', () => {
  it('writes the lines of one turn to a byte stream in one chunk, in order', async () => {
    const chunks: string[] = [];
    const buffer = new LineBuffer({ write: (chunk: string) => chunks.push(chunk) > 0 });
    buffer.write('{"n":1}\n');
    buffer.write('{"n":2}\n');
    expect(chunks).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks).toEqual(['{"n":1}\n{"n":2}\n']);
    buffer.write('{"n":3}\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks).toEqual(['{"n":1}\n{"n":2}\n', '{"n":3}\n']);
  });

  it('writes at once when much is held', () => {
    const chunks: string[] = [];
    const buffer = new LineBuffer({ write: (chunk: string) => chunks.push(chunk) > 0 });
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 64; i++) buffer.write(line);
    expect(chunks.join('')).toBe(line.repeat(64));
  });

  it('teeStream buffers stdout only: other destinations get one line per write, at once', async () => {
    const lines: string[] = [];
    const tee = teeStream({ write: (line: string) => lines.push(line) });
    tee.write('{"a":1}\n');
    tee.write('{"a":2}\n');
    expect(lines).toEqual(['{"a":1}\n', '{"a":2}\n']);
  });

  it('lines still held when the process exits are written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtube-linebuffer-'));
    const file = join(dir, 'out.log');
    const module = fileURLToPath(new URL('../dist/server/log-book.js', import.meta.url));
    // stdout to a file is a byte stream written synchronously; the process exits in the same
    // turn as it logs, before the buffer's end-of-turn write.
    const script =
      `const { teeStream } = await import(${JSON.stringify(module)});` +
      `const tee = teeStream(process.stdout);` +
      `for (let i = 0; i < 3; i++) tee.write('{"line":' + i + '}\\n');` +
      `process.exit(0);`;
    await promisify(execFile)('sh', [
      '-c',
      `${JSON.stringify(process.execPath)} --input-type=module -e ${shellQuote(script)} > ${JSON.stringify(file)}`,
    ]);
    expect(readFileSync(file, 'utf8')).toBe('{"line":0}\n{"line":1}\n{"line":2}\n');
  });
});

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
