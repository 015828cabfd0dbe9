// The gateway isolates requests by default (isolation 'call'): two clients' interleaved requests
// to a guest that keeps the previous payload in a static buffer never see each other's data. A
// sidecar may choose 'instance' (a deliberate cache); GET /functions/<m> shows the mode.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';
import { moduleStatus, send, startGateway, tempFolder } from './server-helpers.js';

const KEEPER = readFileSync(fixture('isolation_test'));

function remember(url: string, payload: string) {
  return send(`${url}/functions/keeper/remember`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from(payload),
  });
}

describe("the gateway's isolation", () => {
  it("defaults to 'call': interleaved requests of two clients see nothing of each other", async () => {
    const gateway = await startGateway(tempFolder({ 'keeper.wasm': KEEPER }), {
      defaults: { threads: 2 },
    });
    const status = await moduleStatus(gateway, 'keeper');
    expect(status.settings.isolation).toBe('call');
    for (let round = 0; round < 100; round++) {
      const answers = await Promise.all([
        remember(gateway.url, `client-A-secret-${round}`),
        remember(gateway.url, `client-B-secret-${round}`),
        remember(gateway.url, `client-A-again-${round}`),
        remember(gateway.url, `client-B-again-${round}`),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(Buffer.from(answer.body).length).toBe(0); // nobody's previous payload
      }
    }
  }, 60_000);

  it("a sidecar may choose 'instance': the guest's state then carries over", async () => {
    const gateway = await startGateway(
      tempFolder({ 'keeper.wasm': KEEPER, 'keeper.json': '{ "isolation": "instance" }' }),
      { defaults: { threads: 1 } },
    );
    expect((await moduleStatus(gateway, 'keeper')).settings.isolation).toBe('instance');
    expect(Buffer.from((await remember(gateway.url, 'first')).body).length).toBe(0);
    expect(Buffer.from((await remember(gateway.url, 'second')).body).toString()).toBe('first');
  });

  it('a sidecar with an unknown isolation does not deploy: ERR_SIDECAR_INVALID', async () => {
    const gateway = await startGateway(
      tempFolder({ 'keeper.wasm': KEEPER, 'keeper.json': '{ "isolation": "request" }' }),
    );
    const status = await moduleStatus(gateway, 'keeper');
    expect(status.error?.code).toBe('ERR_SIDECAR_INVALID');
  });
});
