/**
 * The piezo contract: every implementation of kind `piezo` passes this suite
 * (simulator now; a real adapter joins with a rig of its own, skipped without one).
 * Everything runs on the virtual clock: no wall-clock waits.
 */
import { firstValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import type { DriverState } from '../../../drivers/core/driver.js';
import { AbortedError, BusyError, DisconnectedError, DriverError, OutOfRangeError, TimeoutError } from '../../../drivers/core/errors.js';
import type { DriverFactory } from '../../../drivers/core/registry.js';
import { SimWorld } from '../../../drivers/core/world.js';
import { piezoSimFactory, type PiezoScanner, type Vec3 } from '../../../drivers/piezo/index.js';

interface Rig {
  clock: VirtualClock;
  world: SimWorld;
  piezo: PiezoScanner;
  states: DriverState[];
}

const implementations: { factory: DriverFactory; settings: Record<string, unknown> }[] = [{ factory: piezoSimFactory, settings: { positionNoiseNm: 0.3, readoutHz: 50 } }];

const far = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe.each(implementations)('piezo contract: $factory.impl', ({ factory, settings }) => {
  async function rig(extra: Record<string, unknown> = {}): Promise<Rig> {
    const clock = new VirtualClock();
    const world = new SimWorld({ seed: 3, clock });
    const piezo = (await factory.create('piezo0', { kind: 'piezo', impl: factory.impl, ...settings, ...extra }, { clock, world })) as PiezoScanner;
    const states: DriverState[] = [];
    piezo.state$.subscribe((s) => states.push(s));
    await piezo.connect();
    return { clock, world, piezo, states };
  }
  // Read-back noise bound: tolerance plus 6 σ of the configured sensor noise.
  const bound = (p: PiezoScanner) => p.settleToleranceNm + 6 * Number(settings.positionNoiseNm ?? 0);

  it('connects ready and declares its channels and commands', async () => {
    const { piezo } = await rig();
    expect(piezo.state).toBe('ready');
    const d = piezo.describe();
    expect(d.kind).toBe('piezo');
    expect(d.channels.map((c) => c.name)).toEqual(expect.arrayContaining(['position']));
    expect(Object.keys(d.commands)).toEqual(expect.arrayContaining(['moveTo', 'home', 'position']));
    expect(d.commands.moveTo!.mutating).toBe(true);
  });

  it.each<Vec3>([
    [10_000, 20_000, 30_000],
    [50_010, 50_000, 50_000],
    [0, 100_000, 0],
  ])('moveTo(%d, %d, %d) resolves settled within tolerance, busy while moving', async (x, y, z) => {
    const { piezo, clock, states } = await rig();
    const t0 = clock.now();
    const readback = await piezo.moveTo(x, y, z);
    expect(clock.now()).toBeGreaterThan(t0);
    expect(far(readback, [x, y, z])).toBeLessThanOrEqual(bound(piezo));
    expect(far(piezo.position(), [x, y, z])).toBeLessThanOrEqual(bound(piezo));
    expect(piezo.state).toBe('ready');
    expect(states.slice(-2)).toEqual(['busy', 'ready']);
  });

  it.each<[string, Vec3]>([
    ['negative x', [-1, 0, 0]],
    ['y beyond the travel', [0, 100_001, 0]],
    ['z not a number', [0, 0, NaN]],
  ])('rejects a target outside the range (%s) with OutOfRangeError; nothing moves', async (_what, target) => {
    const { piezo, clock, states } = await rig();
    const before = piezo.position();
    const t0 = clock.now();
    const err = await piezo.moveTo(...target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutOfRangeError);
    expect((err as DriverError).code).toBe('OUT_OF_RANGE');
    expect(clock.now()).toBe(t0);
    expect(states).not.toContain('busy');
    expect(piezo.state).toBe('ready');
    expect(far(piezo.position(), before)).toBeLessThanOrEqual(12 * Number(settings.positionNoiseNm ?? 0) + 1e-9);
  });

  it('emits position frames at the configured rate, moving with the stage', async () => {
    const { piezo, clock } = await rig();
    const framesP = firstValueFrom(piezo.position$.pipe(take(8), toArray()));
    const move = piezo.moveTo(50_000, 50_000, 100_000);
    const frames = await framesP;
    await move;
    expect(frames.map((f) => f.header.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const periodNs = 1e9 / Number(settings.readoutHz);
    frames.forEach((f, i) => {
      expect(f.header.stream).toBe('piezo0.position');
      expect(f.header.dtype).toBe('f64');
      expect(f.header.shape).toEqual([3]);
      expect(f.payload).toBeInstanceOf(Float64Array);
      if (i > 0) expect(f.header.t - frames[i - 1]!.header.t).toBeCloseTo(periodNs, 0);
    });
    // z climbs from 50 µm towards 100 µm while the move runs (50 ms at 1 µm/ms; frames every 20 ms).
    const zs = frames.map((f) => f.payload[2]!);
    expect(zs.at(-1)!).toBeGreaterThan(zs[0]! + 1000);
    expect(frames.some((f) => f.header.onTarget === false)).toBe(true);
    expect(clock.now()).toBeGreaterThan(0);
  });

  it('a disconnect mid-move surfaces as DisconnectedError and the fault state; the stage stops where it was', async () => {
    const { piezo, clock, states } = await rig({ faults: { disconnectAtMs: 5 } });
    const err = await piezo.moveTo(50_000, 50_000, 90_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DisconnectedError);
    expect((err as DriverError).disconnected).toBe(true);
    expect(clock.now()).toBe(5);
    expect(piezo.state).toBe('fault');
    expect(states.slice(-2)).toEqual(['busy', 'fault']);
    expect(piezo.describe().fault?.code).toBe('DISCONNECTED');
    // Further commands are refused with the same typed fault until reconnected.
    await expect(piezo.moveTo(1000, 1000, 1000)).rejects.toBeInstanceOf(DisconnectedError);
    await piezo.connect();
    expect(far(piezo.position(), [50_000, 50_000, 55_000])).toBeLessThan(1000); // 5 ms at 1 µm/ms from z = 50 µm
    await piezo.moveTo(1000, 1000, 1000);
    expect(piezo.state).toBe('ready');
  });

  it('an injected time-out rejects with TimeoutError after timeoutMs and faults', async () => {
    const { piezo, clock } = await rig({ faults: { timeoutAtOperation: 0, timeoutMs: 250 } });
    await expect(piezo.moveTo(1000, 1000, 1000)).rejects.toBeInstanceOf(TimeoutError);
    expect(clock.now()).toBe(250);
    expect(piezo.state).toBe('fault');
  });

  it('refuses a second move while busy, and an aborted move stops at once', async () => {
    const { piezo, clock } = await rig();
    const ac = new AbortController();
    const first = piezo.moveTo(0, 0, 0, { signal: ac.signal });
    await clock.sleep(3);
    await expect(piezo.moveTo(1, 1, 1)).rejects.toBeInstanceOf(BusyError);
    ac.abort();
    await expect(first).rejects.toBeInstanceOf(AbortedError);
    expect(piezo.state).toBe('ready');
    const p = piezo.position();
    expect(p[0]).toBeGreaterThan(40_000); // stopped on the way from 50 µm to 0
    expect(p[0]).toBeLessThan(50_000);
  });

  it('a requested disconnect mid-move rejects the move without a fault', async () => {
    const { piezo, clock, states } = await rig();
    const move = piezo.moveTo(0, 0, 0);
    await clock.sleep(2);
    await piezo.disconnect();
    await expect(move).rejects.toBeInstanceOf(DriverError);
    expect(piezo.state).toBe('disconnected');
    expect(states).not.toContain('fault');
  });

  it('runs its commands by name (the API path)', async () => {
    const { piezo } = await rig();
    const pos = (await piezo.call('moveTo', { x: 20_000, y: 30_000, z: 40_000 })) as Vec3;
    expect(far(pos, [20_000, 30_000, 40_000])).toBeLessThanOrEqual(bound(piezo));
    const home = (await piezo.call('home', {})) as Vec3;
    expect(far(home, [50_000, 50_000, 50_000])).toBeLessThanOrEqual(bound(piezo));
    expect(far((await piezo.call('position', {})) as Vec3, home)).toBeLessThanOrEqual(12 * 0.3);
  });
});
