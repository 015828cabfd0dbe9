import { expectTypeOf, test } from 'vitest';
import {
  createGateway,
  serve,
  statusForCode,
  type Gateway,
  type GatewayEvent,
  type ModuleSettings,
  type ModuleStatus,
} from '../dist/server/index.js';

test('the gateway API', async () => {
  expectTypeOf(createGateway).parameter(0).toEqualTypeOf<Parameters<typeof createGateway>[0]>();
  expectTypeOf(createGateway({ dir: 'x' })).toEqualTypeOf<Promise<Gateway>>();
  expectTypeOf(serve({ dir: 'x', port: 0, host: '127.0.0.1' })).toEqualTypeOf<Promise<Gateway>>();
  const gateway = await createGateway();
  expectTypeOf(gateway.listen({ port: 0 })).toEqualTypeOf<Promise<string>>();
  expectTypeOf(gateway.close({ timeoutMs: 1 })).toEqualTypeOf<Promise<void>>();
  expectTypeOf(gateway.url).toEqualTypeOf<string | undefined>();
  expectTypeOf<ModuleSettings['wasi']>().toEqualTypeOf<
    { args?: string[]; env?: Record<string, string>; preopens?: Record<string, string> } | undefined
  >();
  expectTypeOf<ModuleStatus['state']>().toEqualTypeOf<'deploying' | 'serving' | 'failed'>();
  expectTypeOf(statusForCode('ERR_GUEST_TRAP')).toEqualTypeOf<number>();
  expectTypeOf(gateway.events.snapshot()).toEqualTypeOf<GatewayEvent>();
  expectTypeOf(gateway.events.subscribe)
    .parameter(0)
    .toEqualTypeOf<(event: GatewayEvent) => void>();
  expectTypeOf<GatewayEvent['type']>().toEqualTypeOf<
    | 'snapshot'
    | 'stats'
    | 'deploy'
    | 'deploy-failed'
    | 'reload'
    | 'reload-rejected'
    | 'rollback'
    | 'undeploy'
    | 'module-failed'
    | 'restart'
    | 'call-error'
    | 'log'
  >();
});
