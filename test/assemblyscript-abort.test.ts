// AssemblyScript's default build imports env.abort; the host provides it without any grant.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wasmtube, Worker } from '../dist/index.js';
import { fixture } from './helpers.js';
import { callJson, startGateway, tempFolder } from './server-helpers.js';

const AS_ABORT = fixture('as_abort');

describe('AssemblyScript env.abort', () => {
  it('a module importing env.abort instantiates with nothing granted', async () => {
    const bridge = Wasmtube.fromFile(AS_ABORT);
    expect(await bridge.callFunction('echo', { data: { a: 1 } })).toEqual({ a: 1 });
  });

  it("an abort is a trap carrying the guest's message, file and line", async () => {
    const bridge = Wasmtube.fromFile(AS_ABORT);
    const error = await bridge.callFunction('fail', { data: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_GUEST_TRAP' });
    const message = (error as Error).message;
    expect(message).toContain('input rejected by the guest');
    expect(message).toMatch(/test\/as_abort\/assembly\/index\.ts:\d+:\d+/);
    // The instance was reset and serves again.
    expect(await bridge.callFunction('echo', { data: 2 })).toBe(2);
  });

  it('works in a Worker and behind the gateway', async () => {
    const worker = await Worker.start({ wasmFile: AS_ABORT, threads: 1, watch: false });
    try {
      await expect(worker.callFunction('fail', { data: 1 })).rejects.toMatchObject({
        code: 'ERR_GUEST_TRAP',
      });
      expect(await worker.callFunction('echo', { data: 'x' })).toBe('x');
    } finally {
      await worker.stop();
    }
    const dir = tempFolder();
    copyFileSync(AS_ABORT, join(dir, 'as.wasm'));
    const gateway = await startGateway(dir, { watch: false });
    const answer = await callJson(gateway, 'as', 'fail', 1);
    expect(answer.status).toBe(500);
    expect(answer.body.error.message).toContain('input rejected by the guest');
  });
});
