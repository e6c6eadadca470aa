/** The simulator against its own model: timing on the virtual clock, the world it writes, determinism. */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../drivers/core/clock.js';
import { SimWorld } from '../../../drivers/core/world.js';
import { PiezoMotion, settleAfterArrivalMs, type PiezoMotionParams } from '../../../drivers/piezo/model.js';
import { SimulatedPiezo } from '../../../drivers/piezo/sim.js';
import { PIEZO_SIM_DEFAULTS } from '../../../drivers/piezo/settings.js';
import type { Vec3 } from '../../../drivers/piezo/interface.js';

const params: PiezoMotionParams = {
  rangeNm: [100_000, 100_000, 100_000],
  maxVelocityNmPerMs: 1000,
  settleToleranceNm: 5,
  settleTimeConstantMs: 2,
  overshootFraction: 0.02,
};

function sim(settings = {}) {
  const clock = new VirtualClock();
  const world = new SimWorld({ seed: 11, clock });
  return { clock, world, piezo: new SimulatedPiezo('piezo0', world, settings) };
}

describe('piezo motion model', () => {
  it('the predicted settle instant is the last time the error leaves the tolerance', () => {
    const m = new PiezoMotion([50_000, 50_000, 50_000], [60_000, 50_000, 50_000], 0, params);
    // 10 µm at 1 µm/ms: arrival at 10 ms; overshoot 200 nm, then τ·u with u·e^(1−u) = 5/200.
    expect(m.durationMs).toBeCloseTo(10 + settleAfterArrivalMs(10_000, params), 9);
    expect(m.durationMs).toBeGreaterThan(10 + 2 * 2);
    const err = (t: number) => Math.abs(m.positionAt(t)[0] - 60_000);
    expect(err(m.settledAtMs - 0.01)).toBeGreaterThan(5);
    for (let t = m.settledAtMs; t < m.settledAtMs + 50; t += 0.25) expect(err(t)).toBeLessThanOrEqual(5 + 1e-9);
    // Overshoot peaks at 2 % of the step one τ after arrival.
    expect(m.positionAt(12)[0]).toBeCloseTo(60_200, 6);
  });

  it('a step whose overshoot stays inside the window settles on arrival', () => {
    const m = new PiezoMotion([0, 0, 0], [200, 0, 0], 7, params);
    expect(m.settledAtMs).toBeCloseTo(7 + 0.2, 12);
  });
});

describe('SimulatedPiezo on the virtual clock', () => {
  it.each<Vec3>([
    [60_000, 50_000, 50_000],
    [0, 0, 100_000],
    [50_000, 50_100, 50_000],
  ])('moveTo(%d, %d, %d) settles within tolerance in the time the model predicts (to one poll)', async (x, y, z) => {
    const { clock, world, piezo } = sim();
    await piezo.connect();
    await clock.sleep(13); // start off the poll grid
    const t0 = clock.now();
    const predicted = new PiezoMotion([50_000, 50_000, 50_000], [x, y, z], t0, params).durationMs;
    await piezo.moveTo(x, y, z);
    const took = clock.now() - t0;
    expect(took).toBeGreaterThanOrEqual(predicted - 1e-9);
    expect(took).toBeLessThanOrEqual(predicted + PIEZO_SIM_DEFAULTS.pollMs + 1e-9);
    const focus = world.state.focusNm!;
    expect(Math.max(...focus.map((v, i) => Math.abs(v - [x, y, z][i]!)))).toBeLessThanOrEqual(5);
  });

  it('writes the focus into the world while it moves', async () => {
    const { clock, world, piezo } = sim();
    await piezo.connect();
    expect(world.state.focusNm).toEqual([50_000, 50_000, 50_000]);
    const move = piezo.moveTo(50_000, 50_000, 70_000);
    await clock.sleep(10);
    // Written at every controller poll (1 ms): 10 ms at 1 µm/ms, to within one poll.
    expect(world.state.focusNm![2]).toBeGreaterThanOrEqual(59_000);
    expect(world.state.focusNm![2]).toBeLessThanOrEqual(60_000);
    await move;
  });

  it('read-back noise has the configured RMS and is reproducible per seed', async () => {
    const { piezo } = sim({ positionNoiseNm: 2 });
    await piezo.connect();
    const xs = Array.from({ length: 2000 }, () => piezo.position()[0] - 50_000);
    const rms = Math.sqrt(xs.reduce((s, v) => s + v * v, 0) / xs.length);
    expect(rms).toBeGreaterThan(1.8);
    expect(rms).toBeLessThan(2.2);
    const again = sim({ positionNoiseNm: 2 }).piezo;
    await again.connect();
    expect(again.position()[0] - 50_000).toBe(xs[0]);
  });
});
