import { describe, expect, it } from 'vitest';
import { Wasmtube } from '../dist/index.js';
import { fixture, rejectsWithCode, throwsWithCode } from './helpers.js';
import { startWorker } from './pool-helpers.js';

const WASI_TEST = fixture('wasi_test');
const WASI_CMD = fixture('wasi_cmd');
const say = { data: { out: 'to stdout\n', err: 'to stderr\n' } };

describe('WASI stdio', () => {
  it("captures each call's stdout and stderr with 'capture'", async () => {
    const bridge = Wasmtube.fromFile(WASI_TEST, { wasi: { stdout: 'capture', stderr: 'capture' } });
    await bridge.callFunction('say', say);
    expect(bridge.lastOutput).toEqual({ stdout: 'to stdout\n', stderr: 'to stderr\n' });
    await bridge.callFunction('echo', { data: 1 });
    expect(bridge.lastOutput).toEqual({ stdout: '', stderr: '' });
  });

  it('forwards output to a function, and ignores it on request', async () => {
    const lines: string[] = [];
    const bridge = Wasmtube.fromFile(WASI_TEST, {
      wasi: { stdout: (t) => lines.push(t), stderr: 'ignore' },
    });
    await bridge.callFunction('say', say);
    expect(lines).toEqual(['to stdout\n']);
    expect(bridge.lastOutput).toEqual({ stdout: '', stderr: '' });
  });

  it('gives each Worker call its captured output', async () => {
    const worker = await startWorker({
      wasmFile: WASI_TEST,
      threads: 1,
      wasi: { stdout: 'capture', stderr: 'capture' },
    });
    const { info } = await worker.callFunctionWithInfo('say', say);
    expect(info).toMatchObject({ stdout: 'to stdout\n', stderr: 'to stderr\n' });
    const quiet = await worker.callFunctionWithInfo('echo', { data: 1 });
    expect(quiet.info.stdout).toBeUndefined();
    await rejectsWithCode(
      startWorker({ wasmFile: WASI_TEST, wasi: { stdout: () => undefined } }),
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('rejects bad stdio options', () => {
    throwsWithCode(
      () => Wasmtube.fromFile(WASI_TEST, { wasi: { stdout: 'file' as never } }),
      'ERR_INVALID_ARGUMENT',
    );
    throwsWithCode(
      () => Wasmtube.fromFile(WASI_TEST, { wasi: { stdin: 5 as never } }),
      'ERR_INVALID_ARGUMENT',
    );
  });
});

describe('WASI commands', () => {
  it('run _start per call with args and stdin, returning exit code and output', async () => {
    const bridge = Wasmtube.fromFile(WASI_CMD, { wasi: { env: { GREETING: 'hi' } } });
    const first = await bridge.run({ args: ['wasi_cmd', 'a', 'b'], stdin: 'one\ntwo\n' });
    expect(first).toEqual({
      exitCode: 0,
      stdout: 'args: wasi_cmd a b\nstdin: 2 lines, 8 bytes\nGREETING: hi\n',
      stderr: 'to stderr\n',
    });
    const second = await bridge.run({ args: ['wasi_cmd', '--exit', '3'] });
    expect(second.exitCode).toBe(3);
    expect(second.stdout).toContain('stdin: 0 lines, 0 bytes');
  });

  it('see no environment or stdin unless given', async () => {
    const bridge = Wasmtube.fromFile(WASI_CMD, { wasi: {} });
    const { stdout } = await bridge.run();
    expect(stdout).toContain('GREETING: (none)');
    expect(stdout).toContain('stdin: 0 lines');
  });

  it('need the wasi option and a _start', async () => {
    throwsWithCode(() => Wasmtube.fromFile(WASI_CMD), 'ERR_WASM_INSTANTIATE');
    const reactor = Wasmtube.fromFile(WASI_TEST, { wasi: {} });
    await rejectsWithCode(reactor.run(), 'ERR_EXPORT_NOT_FOUND');
  });

  it('run in a Worker', async () => {
    const worker = await startWorker({
      wasmFile: WASI_CMD,
      threads: 2,
      wasi: { env: { GREETING: 'pool' } },
    });
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        worker.run({ args: ['wasi_cmd', '--exit', String(n)], stdin: 'x\n'.repeat(n) }),
      ),
    );
    expect(results.map((r) => r.exitCode)).toEqual([1, 2, 3]);
    expect(results[2]!.stdout).toContain('stdin: 3 lines');
    expect(results[0]!.stdout).toContain('GREETING: pool');
  });
});
