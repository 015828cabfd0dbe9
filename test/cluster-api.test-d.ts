import { expectTypeOf, test } from 'vitest';
import type { RgbImage } from '../dist/index.js';
import {
  Lattice,
  type HostStatus,
  type JobState,
  type LatticeCallInfo,
} from '../dist/cluster/index.js';

test('the lattice API', async () => {
  expectTypeOf(Lattice.connect({ servers: 'nats://x:4222' })).toEqualTypeOf<Promise<Lattice>>();
  const lattice = await Lattice.connect();
  // Results follow the input and `returns`, as for Worker.callFunction.
  expectTypeOf(lattice.callFunction('m', 'f', { bytes: new Uint8Array() })).toEqualTypeOf<
    Promise<Buffer>
  >();
  expectTypeOf(lattice.callFunction<{ a: number }>('m', 'f', { data: 1 })).toEqualTypeOf<
    Promise<{ a: number }>
  >();
  expectTypeOf(
    lattice.callFunction('m', 'f', { image: new Uint8Array() }, { returns: 'rgb', retry: 1 }),
  ).toEqualTypeOf<Promise<RgbImage>>();
  const { info } = await lattice.callFunctionWithInfo('m', 'f', { data: 1 });
  expectTypeOf(info).toEqualTypeOf<LatticeCallInfo>();
  expectTypeOf(lattice.hosts()).toEqualTypeOf<Promise<HostStatus[]>>();
  expectTypeOf(lattice.job('id')).toEqualTypeOf<Promise<JobState>>();
  expectTypeOf(lattice.enqueue('m', 'f', { data: 1 })).toEqualTypeOf<Promise<string>>();
  lattice.on('host-down', (event) =>
    expectTypeOf(event.reason).toEqualTypeOf<'left' | 'silent' | 'lost'>(),
  );
  expectTypeOf(lattice.close()).toEqualTypeOf<Promise<void>>();
});
