import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGateway, type GatewayOptions } from '../dist/server/index.js';
import { rejectsWithCode } from './helpers.js';
import { tempFolder } from './server-helpers.js';

describe('createGateway options', () => {
  it('refuses a missing folder, unknown options and ill-typed defaults up front', async () => {
    const dir = tempFolder();
    await rejectsWithCode(createGateway({ dir: join(dir, 'missing') }), 'ERR_DEPLOY_FOLDER');
    await rejectsWithCode(
      createGateway({ dir, port: 3000 } as unknown as GatewayOptions),
      'ERR_INVALID_ARGUMENT',
    );
    await rejectsWithCode(createGateway({ dir, defaults: { threads: 0 } }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(createGateway({ dir, token: '' }), 'ERR_INVALID_ARGUMENT');
    await rejectsWithCode(createGateway({ dir, bodyLimitBytes: -1 }), 'ERR_INVALID_ARGUMENT');
  });

  it('an empty folder serves no modules', async () => {
    const gateway = await createGateway({ dir: tempFolder(), logger: false });
    try {
      expect(gateway.modules.list()).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});
